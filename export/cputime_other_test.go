//go:build !unix

package export_test

import "time"

// cpuTime returns 0 where the process's CPU time is not read: the
// benchmarks then report wall-clock ratios only.
func cpuTime() time.Duration { return 0 }
