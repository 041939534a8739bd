package retention_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/retention"
)

// mailLogs returns a table of n spam-filter logs, all due for deletion.
func mailLogs(n int) *hostDB {
	db := newHostDB()
	for i := range n {
		k := fmt.Sprintf("k%02d", i)
		db.records[k] = retention.Record{Key: k, Facts: retention.Facts{Category: "mail-log", Collected: day(2026, 1, 1)}}
	}
	return db
}

// A sweep that stops for any reason after a record failed reports the
// failure with the cause of the stop, keeps its cursor and checkpoints
// before the failed record, and a resumed sweep retries it.
func TestSweepStoppedKeepsFailures(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk full")
	stop := errors.New("stop")
	for _, tc := range []struct {
		name string
		// run sweeps db, stopping at record k05 with the returned cause.
		run func(ev *retention.Evaluator, db *hostDB, checkpoints *[]string) (retention.Report, error)
		why error
	}{
		{
			name: "context cancelled",
			run: func(ev *retention.Evaluator, db *hostDB, cps *[]string) (retention.Report, error) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				db.onDelete = func(key string) {
					if key == "k05" {
						cancel()
					}
				}
				return ev.Sweep(ctx, db.scan(""), db, retention.SweepOptions{CheckpointEvery: 1, Checkpoint: record(cps, nil)})
			},
			why: context.Canceled,
		},
		{
			name: "records fail",
			run: func(ev *retention.Evaluator, db *hostDB, cps *[]string) (retention.Report, error) {
				recs := func(yield func(retention.Record, error) bool) {
					for r, err := range db.scan("") {
						if r.Key == "k06" {
							yield(retention.Record{}, stop)
							return
						}
						if !yield(r, err) {
							return
						}
					}
				}
				return ev.Sweep(context.Background(), iter.Seq2[retention.Record, error](recs), db, retention.SweepOptions{CheckpointEvery: 1, Checkpoint: record(cps, nil)})
			},
			why: stop,
		},
		{
			name: "checkpoint fails",
			run: func(ev *retention.Evaluator, db *hostDB, cps *[]string) (retention.Report, error) {
				n := 0
				return ev.Sweep(context.Background(), db.scan(""), db, retention.SweepOptions{CheckpointEvery: 2, Checkpoint: func(ctx context.Context, c string) error {
					if n++; n == 3 {
						return stop
					}
					return record(cps, nil)(ctx, c)
				}})
			},
			why: stop,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := newEvaluator(t, retention.ExamplePolicy(), nil)
			db := mailLogs(10)
			db.failKeys["k02"] = boom
			var cps []string
			rep, err := tc.run(ev, db, &cps)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.why, "the cause of the stop")
			assert.ErrorIs(t, err, boom, "the failure")
			var se *retention.SweepError
			require.ErrorAs(t, err, &se)
			require.Len(t, se.Failures, 1)
			assert.Equal(t, "k02", se.Failures[0].Key)
			assert.ErrorIs(t, se.Err, tc.why)
			assert.Equal(t, 1, rep.Failed)
			assert.Equal(t, "k01", rep.Cursor, "the cursor stays before the failed record")
			for _, c := range cps {
				assert.LessOrEqual(t, c, "k01", "no checkpoint past the failed record")
			}
			assert.Contains(t, err.Error(), `"k02"`)
			assert.True(t, strings.HasPrefix(err.Error(), "retention: sweep: stopped: "), err.Error())

			// The failure is mended; resuming from the cursor retries it.
			delete(db.failKeys, "k02")
			db.onDelete = nil
			rep, err = ev.Sweep(context.Background(), db.scan(rep.Cursor), db, retention.SweepOptions{After: rep.Cursor})
			require.NoError(t, err)
			assert.Empty(t, db.records, "every record is gone, k02 included")
			assert.Equal(t, "k09", rep.Cursor)
		})
	}
}

func record(cps *[]string, err error) func(context.Context, string) error {
	return func(_ context.Context, c string) error {
		*cps = append(*cps, c)
		return err
	}
}

// A sweep that runs to the end with failures keeps its cursor before the
// first failure too, so that resuming from it retries them.
func TestSweepCursorStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	db := mailLogs(6)
	db.failKeys["k03"] = errors.New("locked")
	var cps []string
	rep, err := ev.Sweep(context.Background(), db.scan(""), db, retention.SweepOptions{CheckpointEvery: 1, Checkpoint: record(&cps, nil)})
	var se *retention.SweepError
	require.ErrorAs(t, err, &se)
	assert.NoError(t, se.Err, "the sweep was not stopped")
	assert.Equal(t, "k02", rep.Cursor)
	assert.Equal(t, 5, rep.Deleted)
	assert.Equal(t, []string{"k00", "k01", "k02", "k02", "k02", "k02"}, cps)
}
