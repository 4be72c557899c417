//go:build linux || darwin

package benchhotels

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"syscall"
)

// PeakRSSMB returns the peak resident set size of this process in MB. On
// Linux it is VmHWM of /proc/self/status: getrusage's ru_maxrss carries the
// high-water mark of the process image before an exec, so a child started
// by a large parent would report the parent's peak.
func PeakRSSMB() float64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				var kb float64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%g kB", &kb); err == nil {
					return kb / 1024
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	kb := float64(ru.Maxrss)
	if runtime.GOOS == "darwin" {
		kb /= 1024 // bytes there
	}
	return kb / 1024
}
