//go:build race

package stagesync_test

// maxAssetSize is the largest file of the 200-asset tests; the race
// detector makes 5 MB files too slow.
const maxAssetSize = 256 << 10
