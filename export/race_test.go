//go:build race

package export_test

// raceEnabled reports a build with the race detector, which makes the
// heap-flatness test too slow and its numbers meaningless.
const raceEnabled = true
