package consenttest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// The Ledger/ cases run ledgers over the store, as a host does.

var since = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func purposes() []consent.Purpose {
	return []consent.Purpose{
		{ID: "newsletter", Basis: personaldata.Consent, DirectMarketing: true, Since: since},
		{ID: "service-announcements", Basis: personaldata.Contract, Since: since},
	}
}

// testLedgerRestart: a ledger over the store, restarted, knows its purposes
// and notice versions and answers as before.
func testLedgerRestart(t *testing.T, s consent.Store) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC) }
	notice := consent.Notice{Version: "2020-01", URL: "https://example.org/privacy/2020-01", Text: "We send a newsletter.",
		AnnouncedAt: since, EffectiveAt: since, Purposes: []consent.PurposeID{"newsletter", "service-announcements"}}
	l, err := consent.New(ctx, s, &consent.Options{Clock: now, Purposes: purposes(), Notices: []consent.Notice{notice}})
	must(t, err, "New")
	must(t, l.AddPurpose(ctx, consent.Purpose{ID: "statistics", Basis: personaldata.LegitimateInterests}), "AddPurpose")
	_, err = l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: "newsletter",
		EffectiveAt: since.Add(time.Hour), Method: consent.MethodForm, Actor: consent.ActorSubject})
	must(t, err, "Record")
	ask := func(l *consent.Ledger) []consent.Decision {
		var out []consent.Decision
		for _, p := range []consent.PurposeID{"newsletter", "service-announcements", "statistics"} {
			for _, at := range []time.Time{since.Add(time.Minute), since.Add(2 * time.Hour), now().Add(-time.Hour), now().Add(time.Hour)} {
				d, err := l.Decide(ctx, "s", p, at)
				must(t, err, "Decide")
				out = append(out, d)
			}
		}
		return out
	}
	want := ask(l)
	l2, err := consent.New(ctx, s, &consent.Options{Clock: func() time.Time { return now().AddDate(1, 0, 0) }})
	must(t, err, "New after a restart")
	if diff := cmp.Diff(want, ask(l2)); diff != "" {
		t.Fatalf("answers changed by a restart (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(l.Notices(), l2.Notices()); diff != "" {
		t.Fatalf("notice archive changed by a restart (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(l.Purposes(), l2.Purposes()); diff != "" {
		t.Fatalf("purposes changed by a restart (-before +after):\n%s", diff)
	}
}

// testConcurrentLedgers: eight ledgers (as if in eight processes) record
// for one subject at once; with the default back-off every write succeeds,
// every event lands once and the chain verifies.
func testConcurrentLedgers(t *testing.T, s consent.Store) {
	ctx := context.Background()
	const ledgers, goroutines, each = 8, 2, 6
	var ls []*consent.Ledger
	for range ledgers {
		l, err := consent.New(ctx, s, &consent.Options{Purposes: purposes()})
		must(t, err, "New")
		t.Cleanup(func() { _ = l.Close() })
		ls = append(ls, l)
	}
	var wg sync.WaitGroup
	for _, l := range ls {
		for range goroutines {
			wg.Go(func() {
				for k := range each {
					typ := consent.EventGrant
					if k%2 == 1 {
						typ = consent.EventWithdraw
					}
					_, err := l.Record(ctx, consent.Change{Type: typ, Subject: "hot", Purpose: "newsletter",
						Method: consent.MethodAPI, Actor: consent.ActorSubject})
					if err != nil {
						t.Errorf("Record under contention: %v", err)
					}
				}
			})
		}
	}
	wg.Wait()
	for _, l := range ls {
		must(t, l.Sync(ctx, "hot"), "Sync")
		must(t, l.Verify(ctx, "hot"), "Verify")
	}
	h, err := ls[0].History(ctx, "hot")
	must(t, err, "History")
	if len(h) != ledgers*goroutines*each {
		t.Fatalf("%d events, want %d", len(h), ledgers*goroutines*each)
	}
	ids := map[ulid.ULID]bool{}
	for _, e := range h {
		if ids[e.ID] {
			t.Fatalf("duplicate event %s", e.ID)
		}
		ids[e.ID] = true
	}
}
