//go:build !race

package stagesync_test

// maxAssetSize is the largest file of the 200-asset tests.
const maxAssetSize = 5 << 20
