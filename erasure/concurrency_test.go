package erasure_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
)

func TestConcurrentExecute(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var ids []ulid.ULID
	for i := range 8 {
		s := personaldata.SubjectID(fmt.Sprintf("s-%d", i))
		f.scopes[s] = []erasure.ScopeFacts{{Scope: personaldata.DefaultScope}}
		f.crm.put(s, 3, 1)
		ids = append(ids, f.submitVerified(t, s).ID)
	}
	// Every request executed from four goroutines at once.
	var wg sync.WaitGroup
	for _, id := range ids {
		for range 4 {
			wg.Go(func() {
				if _, _, err := f.svc.Execute(f.ctx, id, "staff"); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	for _, id := range ids {
		rcs, err := f.svc.Receipts(f.ctx, id)
		require.NoError(t, err)
		assert.Len(t, rcs, 1, "one receipt per request")
		assert.Equal(t, 3, rcs[0].Erased.Systems[0].Removed, "rows counted once")
	}
	n, err := f.svc.VerifyReceipts(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, len(ids), n)
}

// failingStore fails Update after a number of successful calls.
type failingStore struct {
	*erasure.MemoryStore
	left atomic.Int32
}

func (s *failingStore) Update(ctx context.Context, r erasure.Request) error {
	if s.left.Add(-1) < 0 {
		return errors.New("database is down")
	}
	return s.MemoryStore.Update(ctx, r)
}

// TestStoreFailureMidway interrupts an execution by a failing store and
// shows the retry finishes without repeating stored steps.
func TestStoreFailureMidway(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.scopes["s-1"] = []erasure.ScopeFacts{{Scope: personaldata.DefaultScope}}
	f.crm.put("s-1", 1, 0)
	r := f.submitVerified(t, "s-1")

	fs := &failingStore{MemoryStore: f.store}
	fs.left.Store(3) // the plan, the consent step and the shred are stored
	svc, err := erasure.New(erasure.Stores{Requests: fs, Receipts: f.store, Suppression: f.store}, f.prot,
		erasure.Keys{Signing: signingKey, Hash: hashKey},
		&erasure.Options{Now: f.clk.Now, Systems: []erasure.System{{Name: "crm", Eraser: f.crm}},
			Inventory: erasure.InventoryFunc(f.inventory), Consent: f.ledger})
	require.NoError(t, err)
	_, _, err = svc.Execute(f.ctx, r.ID, "staff")
	require.Error(t, err)
	stored, err := f.svc.Get(f.ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, erasure.StateInProgress, stored.State)
	var done []erasure.StepKind
	for _, st := range stored.Steps {
		if st.State == erasure.StepDone {
			done = append(done, st.Kind)
		}
	}
	assert.Equal(t, []erasure.StepKind{erasure.StepConsent, erasure.StepForgetSubject}, done)
	rcs, err := f.svc.Receipts(f.ctx, r.ID)
	require.NoError(t, err)
	assert.Empty(t, rcs, "no receipt for an unfinished erasure")

	fs.left.Store(100)
	calls := f.crm.calls
	stored, rc, err := svc.Execute(f.ctx, r.ID, "staff")
	require.NoError(t, err)
	assert.Equal(t, erasure.StateCompleted, stored.State)
	assert.Equal(t, calls+1, f.crm.calls, "the eraser whose outcome was lost runs again; it is idempotent")
	// The first run's count was never stored; the receipt reports what the
	// stored run removed.
	assert.Equal(t, 0, rc.Erased.Systems[0].Removed)
	assert.Zero(t, f.crm.count("s-1"))
}
