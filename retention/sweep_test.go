package retention_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

// hostDB is a host's table of records, ordered by key.
type hostDB struct {
	mu       sync.Mutex
	records  map[string]retention.Record
	deleted  []string
	anon     []string
	failKeys map[string]error
	onDelete func(key string)
}

func newHostDB(recs ...retention.Record) *hostDB {
	db := &hostDB{records: map[string]retention.Record{}, failKeys: map[string]error{}}
	for _, r := range recs {
		db.records[r.Key] = r
	}
	return db
}

// scan yields the records in key order, after a cursor, reading each from
// the table as it goes (as a database cursor would).
func (db *hostDB) scan(after string) iter.Seq2[retention.Record, error] {
	return func(yield func(retention.Record, error) bool) {
		db.mu.Lock()
		keys := make([]string, 0, len(db.records))
		for k := range db.records {
			if k > after {
				keys = append(keys, k)
			}
		}
		db.mu.Unlock()
		slices.Sort(keys)
		for _, k := range keys {
			db.mu.Lock()
			r, ok := db.records[k]
			db.mu.Unlock()
			if ok && !yield(r, nil) {
				return
			}
		}
	}
}

func (db *hostDB) Delete(_ context.Context, r retention.Record) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.failKeys[r.Key]; err != nil {
		return err
	}
	if _, ok := db.records[r.Key]; !ok {
		return fmt.Errorf("row %s: %w", r.Key, retention.ErrNotFound)
	}
	delete(db.records, r.Key)
	db.deleted = append(db.deleted, r.Key)
	if db.onDelete != nil {
		db.onDelete(r.Key)
	}
	return nil
}

func (db *hostDB) Anonymise(_ context.Context, r retention.Record) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.records[r.Key]; !ok {
		return retention.ErrNotFound
	}
	r.Facts.Subject = ""
	r.Facts.Category = "anonymous"
	db.records[r.Key] = r
	db.anon = append(db.anon, r.Key)
	return nil
}

// sweepRecords: 3 due for deletion, 1 kept, 1 due for review.
func sweepRecords() []retention.Record {
	return []retention.Record{
		{Key: "r1", Facts: retention.Facts{Subject: "customer-1", Category: "mail-log", Collected: day(2026, 1, 1)}},
		{Key: "r2", Facts: retention.Facts{Subject: "customer-2", Category: "billing", Collected: day(2025, 1, 1)}},
		{Key: "r3", Facts: retention.Facts{Subject: "customer-2", Category: "billing", Collected: day(2018, 1, 1)}},
		{Key: "r4", Facts: retention.Facts{Subject: "customer-3", Category: "account", LastActivity: day(2020, 1, 1)}},
		{Key: "r5", Facts: retention.Facts{Subject: "customer-3", Category: "contact", Collected: day(2023, 1, 1)}},
	}
}

func TestSweep(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	db := newHostDB(sweepRecords()...)
	var reviewed []string
	rep, err := ev.Sweep(context.Background(), db.scan(""), db, retention.SweepOptions{
		Review: func(_ context.Context, r retention.Record, d retention.Decision) error {
			reviewed = append(reviewed, r.Key+":"+d.RuleID)
			return nil
		},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"r1", "r3", "r5"}, db.deleted)
	assert.Equal(t, []string{"r4:account-inactive"}, reviewed)
	want := retention.Report{
		Now: now, PolicyHash: retention.ExamplePolicy().Hash(), Seen: 5,
		ByVerdict: map[retention.Action]int{retention.Delete: 3, retention.Keep: 1, retention.Review: 1},
		ByRule:    map[string]int{"mail-log": 1, "invoices": 2, "account-inactive": 1, "contact": 1},
		Deleted:   3, Reviewed: 1, Cursor: "r5",
	}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}

	// Idempotent: a second sweep finds nothing more to do.
	rep, err = ev.Sweep(context.Background(), db.scan(""), db, retention.SweepOptions{})
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Deleted)
	assert.Equal(t, 2, rep.Seen)
}

func TestSweepDryRun(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	db := newHostDB(sweepRecords()...)
	reviewCalled := false
	rep, err := ev.Sweep(context.Background(), db.scan(""), nil, retention.SweepOptions{
		DryRun: true,
		Review: func(context.Context, retention.Record, retention.Decision) error { reviewCalled = true; return nil },
	})
	require.NoError(t, err)
	assert.True(t, rep.DryRun)
	assert.Empty(t, db.deleted)
	assert.Len(t, db.records, 5)
	assert.False(t, reviewCalled)
	assert.Equal(t, map[retention.Action]int{retention.Delete: 3, retention.Keep: 1, retention.Review: 1}, rep.ByVerdict)
	assert.Zero(t, rep.Deleted+rep.Reviewed)
}

func TestSweepNilDisposer(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	_, err := ev.Sweep(context.Background(), newHostDB().scan(""), nil, retention.SweepOptions{})
	require.Error(t, err)
}

func TestSweepRechecksHoldsBeforeActing(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	ctx := context.Background()
	recs := sweepRecords()
	db := newHostDB(recs...)
	// A hold on customer-2 placed in the middle of the sweep, after the
	// records were read, as soon as r1 is deleted.
	db.onDelete = func(key string) {
		if key == "r1" {
			_, err := ev.PlaceHold(ctx, retention.Hold{Subject: "customer-2", Reason: "dispute 12", PlacedBy: "legal"})
			require.NoError(t, err)
		}
	}
	// And a hold on one record placed before.
	_, err := ev.PlaceHold(ctx, retention.Hold{RecordKey: "r5", Reason: "audit", PlacedBy: "legal"})
	require.NoError(t, err)

	rep, err := ev.Sweep(ctx, db.scan(""), db, retention.SweepOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"r1"}, db.deleted, "r3 (customer-2) and r5 are held")
	assert.Equal(t, 2, rep.Held)
	assert.Equal(t, 1, rep.Deleted)
	assert.Equal(t, 3, rep.ByRule[""]+rep.ByRule["invoices"]) // r2 by invoices, r3 and r5 by holds
	assert.Equal(t, 2, rep.ByRule[""])

	// Released: the next sweep deletes them.
	holds, err := ev.ListHolds(ctx, false)
	require.NoError(t, err)
	for _, h := range holds {
		_, err := ev.ReleaseHold(ctx, h.ID, "legal")
		require.NoError(t, err)
	}
	db.onDelete = nil
	rep, err = ev.Sweep(ctx, db.scan(""), db, retention.SweepOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"r1", "r3", "r5"}, db.deleted)
	assert.Zero(t, rep.Held)
}

func TestSweepAlreadyGone(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	recs := sweepRecords()
	db := newHostDB(recs...)
	delete(db.records, "r3") // gone between listing and acting
	rep, err := ev.Sweep(context.Background(), seq(recs), db, retention.SweepOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.AlreadyGone)
	assert.Equal(t, 2, rep.Deleted)
}

func TestSweepFailuresAreCapped(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	boom := errors.New("disk on fire")
	var recs []retention.Record
	db := newHostDB()
	for i := range 10 {
		r := retention.Record{Key: fmt.Sprintf("m%02d", i), Facts: retention.Facts{Category: "mail-log", Collected: day(2026, 1, 1)}}
		recs = append(recs, r)
		db.records[r.Key] = r
		if i%2 == 0 {
			db.failKeys[r.Key] = boom
		}
	}
	rep, err := ev.Sweep(context.Background(), seq(recs), db, retention.SweepOptions{MaxFailures: 2})
	var se *retention.SweepError
	require.ErrorAs(t, err, &se)
	assert.Len(t, se.Failures, 2)
	assert.Equal(t, 3, se.Omitted)
	assert.Equal(t, 5, rep.Failed)
	assert.Equal(t, 5, rep.Deleted)
	assert.Equal(t, "", rep.Cursor, "the cursor stays before the first failure, m00")
	assert.ErrorIs(t, err, boom)
	var re *retention.RecordError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "m00", re.Key)
	assert.Equal(t, "mail-log", re.RuleID)
	assert.Equal(t, `retention: sweep: 5 records failed; first: retention: record "m00": delete: disk on fire`, err.Error())
}

func TestSweepResumesAfterCancel(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	db := newHostDB()
	for i := range 100 {
		k := fmt.Sprintf("k%03d", i)
		db.records[k] = retention.Record{Key: k, Facts: retention.Facts{Category: "mail-log", Collected: day(2026, 1, 1)}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var checkpoints []string
	db.onDelete = func(key string) {
		if key == "k041" {
			cancel()
		}
	}
	rep, err := ev.Sweep(ctx, db.scan(""), db, retention.SweepOptions{
		CheckpointEvery: 10,
		Checkpoint: func(_ context.Context, cursor string) error {
			checkpoints = append(checkpoints, cursor)
			return nil
		},
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "k041", rep.Cursor)
	assert.Equal(t, 42, rep.Deleted)
	assert.Equal(t, []string{"k009", "k019", "k029", "k039"}, checkpoints)

	// Resume from the cursor, with the host's full scan: the skipped
	// records are not evaluated again.
	db.onDelete = nil
	rep2, err := ev.Sweep(context.Background(), db.scan(""), db, retention.SweepOptions{After: rep.Cursor})
	require.NoError(t, err)
	assert.Equal(t, 58, rep2.Deleted)
	assert.Equal(t, 0, rep2.Skipped, "deleted records are not listed again")
	assert.Empty(t, db.records)
	assert.Len(t, db.deleted, 100)
}

func TestSweepSkipsUpToCursor(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	recs := sweepRecords()
	rep, err := ev.Sweep(context.Background(), seq(recs), nil, retention.SweepOptions{DryRun: true, After: "r3"})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Skipped)
	assert.Equal(t, 2, rep.Seen)
	assert.Equal(t, "r5", rep.Cursor)
}

func TestSweepCustomOrder(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	var recs []retention.Record
	for _, k := range []string{"9", "10", "11"} { // numeric order
		recs = append(recs, retention.Record{Key: k, Facts: retention.Facts{Category: "contact", Collected: day(2026, 1, 1)}})
	}
	_, err := ev.Sweep(context.Background(), seq(recs), nil, retention.SweepOptions{DryRun: true})
	require.ErrorIs(t, err, retention.ErrOutOfOrder)

	numeric := func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	}
	rep, err := ev.Sweep(context.Background(), seq(recs), nil, retention.SweepOptions{DryRun: true, Compare: numeric, After: "9"})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Seen)
	assert.Equal(t, "11", rep.Cursor)
}

func TestSweepStops(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	readErr := errors.New("connection reset")
	failing := func(yield func(retention.Record, error) bool) {
		if !yield(retention.Record{Key: "a", Facts: retention.Facts{Category: "contact"}}, nil) {
			return
		}
		yield(retention.Record{}, readErr)
	}
	rep, err := ev.Sweep(context.Background(), failing, nil, retention.SweepOptions{DryRun: true})
	require.ErrorIs(t, err, readErr)
	assert.Equal(t, "a", rep.Cursor)

	_, err = ev.Sweep(context.Background(), seq([]retention.Record{{Key: ""}}), nil, retention.SweepOptions{DryRun: true})
	require.ErrorIs(t, err, retention.ErrInvalidRecord)

	cpErr := errors.New("cannot save")
	_, err = ev.Sweep(context.Background(), seq(sweepRecords()), nil, retention.SweepOptions{
		DryRun: true, CheckpointEvery: 2,
		Checkpoint: func(context.Context, string) error { return cpErr },
	})
	require.ErrorIs(t, err, cpErr)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err = ev.Sweep(ctx, seq(sweepRecords()), nil, retention.SweepOptions{DryRun: true})
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, rep.Seen)
}

// failingHolds is a hold store whose Active fails.
type failingHolds struct{ retention.HoldStore }

func (failingHolds) Active(context.Context, personaldata.SubjectID, string) ([]retention.Hold, error) {
	return nil, errors.New("hold store down")
}

func TestSweepDoesNotActWhenHoldsCannotBeChecked(t *testing.T) {
	t.Parallel()
	ev, err := retention.New(retention.ExamplePolicy(), failingHolds{retention.NewMemoryHoldStore()}, &retention.Options{Clock: func() time.Time { return now }})
	require.NoError(t, err)
	db := newHostDB(sweepRecords()...)
	rep, err := ev.Sweep(context.Background(), db.scan(""), db, retention.SweepOptions{})
	var se *retention.SweepError
	require.ErrorAs(t, err, &se)
	assert.Empty(t, db.deleted, "nothing deleted without a hold check")
	assert.Equal(t, 4, rep.Failed)
	assert.Equal(t, 1, rep.ByVerdict[retention.Keep])

	_, err = ev.Decide(context.Background(), "r1", sweepRecords()[0].Facts)
	require.Error(t, err)
}

func TestSweepConcurrentPartitions(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, benchPolicy(t), nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	reports := make([]retention.Report, 4)
	for w := range 4 {
		wg.Go(func() {
			recs := func(yield func(retention.Record, error) bool) {
				for rec, err := range generate(2000) {
					if rec.Key[len(rec.Key)-1]%4 == byte('0'+w)%4 && !yield(rec, err) {
						return
					}
				}
			}
			rep, err := ev.Sweep(ctx, recs, nopDisposer{}, retention.SweepOptions{})
			assert.NoError(t, err)
			reports[w] = rep
		})
		_, err := ev.PlaceHold(ctx, retention.Hold{Subject: personaldata.SubjectID(fmt.Sprintf("customer-%d", w)), Reason: "r"})
		require.NoError(t, err)
	}
	wg.Wait()
	total := 0
	for _, r := range reports {
		total += r.Seen
	}
	assert.Equal(t, 2000, total)
}

func TestDecideUsesHoldStore(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	ctx := context.Background()
	f := retention.Facts{Subject: "customer-9", Category: "mail-log", Collected: day(2026, 1, 1)}
	d, err := ev.Decide(ctx, "log-1", f)
	require.NoError(t, err)
	assert.Equal(t, retention.Delete, d.Verdict)
	h, err := ev.PlaceHold(ctx, retention.Hold{RecordKey: "log-1", Reason: "incident 4"})
	require.NoError(t, err)
	d, err = ev.Decide(ctx, "log-1", f)
	require.NoError(t, err)
	assert.Equal(t, retention.ReasonHold, d.Reason)
	require.Len(t, d.Holds(), 1)
	assert.Equal(t, h.ID, d.Holds()[0].ID)
}

// seq yields recs in order.
func seq(recs []retention.Record) iter.Seq2[retention.Record, error] {
	return func(yield func(retention.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// cancellingDisposer cancels the sweep's context while deleting one key and
// reports the cancellation, as a database driver would.
type cancellingDisposer struct {
	*hostDB
	key    string
	cancel context.CancelFunc
}

func (a cancellingDisposer) Delete(ctx context.Context, r retention.Record) error {
	if r.Key == a.key {
		a.cancel()
		return ctx.Err()
	}
	return a.hostDB.Delete(ctx, r)
}

func TestSweepInterruptedWhileActing(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	db := newHostDB(sweepRecords()...)
	ctx, cancel := context.WithCancel(context.Background())
	rep, err := ev.Sweep(ctx, db.scan(""), cancellingDisposer{db, "r3", cancel}, retention.SweepOptions{})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "r2", rep.Cursor, "r3 is not done")
	assert.Equal(t, 2, rep.Seen)
	assert.Equal(t, map[retention.Action]int{retention.Delete: 1, retention.Keep: 1}, rep.ByVerdict)
	assert.Equal(t, map[string]int{"mail-log": 1, "invoices": 1}, rep.ByRule)

	rep, err = ev.Sweep(context.Background(), db.scan(rep.Cursor), db, retention.SweepOptions{After: rep.Cursor})
	require.NoError(t, err)
	assert.Equal(t, []string{"r1", "r3", "r5"}, db.deleted)
}
