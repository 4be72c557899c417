package stagesync

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ErrStateInUse is matched (errors.Is) by the error LoadState returns when
// another run, in this process or another, holds the state database.
var ErrStateInUse = errors.New("stagesync: state in use")

// errLockHeld is what tryLock returns when another holder has the lock.
var errLockHeld = errors.New("lock held")

// stateLock is the exclusive lock of one state database, held from
// LoadState to Close: an OS advisory lock (flock on Unix, LockFileEx on
// Windows) on the file "<state>.lock" beside it, which names its holder.
// The OS drops the lock when its holder exits, however it exits, so a
// lock file left by a killed run never blocks the next one; the file
// itself stays, emptied on release.
//
// Every run takes the lock, dry runs included: a dry run matches entries
// through the identity map, which a real run is changing while it runs,
// so a plan made beside a running sync would be wrong.
type stateLock struct {
	f  *os.File  // the lock file's
	pg *sql.Conn // or the connection holding a PostgreSQL state's advisory lock
}

// lockHolder is what a lock file records of its holder.
type lockHolder struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// stateInUseError names the holder of a state's lock.
type stateInUseError struct {
	path     string
	holder   *lockHolder // nil when the lock file does not say
	advisory bool        // a PostgreSQL state's lock
}

func (e *stateInUseError) Error() string {
	if e.holder == nil && e.advisory {
		return fmt.Sprintf("stagesync: state %s is in use by another run (its advisory lock is held); wait for it or stop it", e.path)
	}
	if e.holder == nil {
		return fmt.Sprintf("stagesync: state %s is in use by another run (lock %s.lock); wait for it or stop it", e.path, e.path)
	}
	return fmt.Sprintf("stagesync: state %s is in use by pid %d on %s since %s; wait for it or stop it",
		e.path, e.holder.PID, e.holder.Host, e.holder.Since.Local().Format(time.DateTime+" MST"))
}

func (e *stateInUseError) Is(target error) bool { return target == ErrStateInUse }

// lockState takes the lock of the state database at path, or fails at
// once with a *stateInUseError when another run holds it.
func lockState(path string) (*stateLock, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("stagesync: lock state %s: %w", path, err)
	}
	if err := tryLock(f); err != nil {
		defer f.Close()
		if !errors.Is(err, errLockHeld) {
			return nil, fmt.Errorf("stagesync: lock state %s: %w", path, err)
		}
		e := &stateInUseError{path: path}
		var h lockHolder
		if b, rerr := io.ReadAll(io.LimitReader(f, 4<<10)); rerr == nil && json.Unmarshal(b, &h) == nil && h.PID != 0 {
			e.holder = &h
		}
		return nil, e
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(lockHolder{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)})
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	if err != nil {
		l := &stateLock{f: f}
		l.release()
		return nil, fmt.Errorf("stagesync: lock state %s: %w", path, err)
	}
	return &stateLock{f: f}, nil
}

// release empties the lock file and drops the lock.
func (l *stateLock) release() {
	if l == nil {
		return
	}
	if l.pg != nil {
		// The holder's record goes with the lock; a killed holder's
		// stays, and the next holder overwrites it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = l.pg.ExecContext(ctx, `DELETE FROM meta WHERE key = 'holder'`)
		_, _ = l.pg.ExecContext(ctx, `SELECT pg_advisory_unlock(`+postgresLockKey+`)`)
		_ = l.pg.Close()
		return
	}
	_ = l.f.Truncate(0)
	_ = unlock(l.f)
	_ = l.f.Close()
}
