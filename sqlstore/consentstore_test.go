package sqlstore_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/sqlstore"
)

// consentEvent returns an event row of subject at seq; stores treat its
// Data as opaque.
func consentEvent(subject personaldata.SubjectID, seq uint64, purpose consent.PurposeID) consent.StoredEvent {
	data := fmt.Appendf(nil, "%s/%d/%s", subject, seq, purpose)
	h := sha256.Sum256(data)
	id := fmt.Sprintf("%026d", seq)
	return consent.StoredEvent{Subject: subject, Seq: seq, ID: id, Purpose: purpose, Data: data, Hash: h[:]}
}

// rebind writes the ? placeholders of q as PostgreSQL wants them.
func rebind(d sqlstore.Dialect, q string) string {
	if d != sqlstore.PostgreSQL {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

var consentSince = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func consentPurposes() []consent.Purpose {
	return []consent.Purpose{
		{ID: "newsletter", Basis: personaldata.Consent, DirectMarketing: true, Since: consentSince},
		{ID: "service-announcements", Basis: personaldata.Contract, Since: consentSince},
	}
}

func grant(subject personaldata.SubjectID, at time.Time) consent.Change {
	return consent.Change{Type: consent.EventGrant, Subject: subject, Purpose: "newsletter",
		EffectiveAt: at, Method: consent.MethodForm, Actor: consent.ActorSubject}
}

// TestConsentSubjectsPaging streams more subjects than one page holds, for
// every subject and for one purpose, and finds each exactly once, in the
// same order twice.
func TestConsentSubjectsPaging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, _ := openConsentStore(t, b)
		const n = 2100 // three pages
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					subj := personaldata.SubjectID(fmt.Sprintf("subject-%05d", i))
					// Even subjects have three newsletter events, so that
					// one page of the purpose index holds repeats.
					evs := []consent.StoredEvent{consentEvent(subj, 1, "")}
					if i%2 == 0 {
						evs = append(evs, consentEvent(subj, 2, "newsletter"), consentEvent(subj, 3, "newsletter"), consentEvent(subj, 4, "newsletter"))
					}
					if err := s.Append(ctx, subj, 0, evs); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		collect := func(p consent.PurposeID) []personaldata.SubjectID {
			var out []personaldata.SubjectID
			for subj, err := range s.Subjects(ctx, p) {
				require.NoError(t, err)
				out = append(out, subj)
			}
			return out
		}
		all := collect("")
		require.Len(t, all, n)
		require.Equal(t, all, collect(""), "a stable order")
		sorted := slices.Clone(all)
		slices.Sort(sorted)
		require.Equal(t, n, len(slices.Compact(sorted)), "each subject once")
		news := collect("newsletter")
		require.Len(t, news, n/2)
		for _, subj := range news {
			i, err := strconv.Atoi(strings.TrimPrefix(string(subj), "subject-"))
			require.NoError(t, err)
			require.Zero(t, i%2, "subject %s has no newsletter event", subj)
		}
		slices.Sort(news)
		require.Equal(t, n/2, len(slices.Compact(news)), "each subject once")
		// Stopping early ends the iteration.
		k := 0
		for range s.Subjects(ctx, "") {
			if k++; k == 1500 {
				break
			}
		}
		require.Equal(t, 1500, k)
	})
}

// TestConsentAppendRepeated repeats an Append that committed, as a caller
// does after a connection lost at COMMIT: the repeat returns nil and
// writes nothing, while other events at those positions still conflict.
// The events are hash-chained and carry unique IDs, so the same bytes at
// the same place are the same append.
func TestConsentAppendRepeated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, _ := openConsentStore(t, b)
		first := []consent.StoredEvent{consentEvent("ann", 1, "newsletter"), consentEvent("ann", 2, "")}
		require.NoError(t, s.Append(ctx, "ann", 0, first))
		require.NoError(t, s.Append(ctx, "ann", 0, first), "a repeat")
		next := []consent.StoredEvent{consentEvent("ann", 3, "newsletter")}
		require.NoError(t, s.Append(ctx, "ann", 2, next))
		require.NoError(t, s.Append(ctx, "ann", 2, next), "a repeat")
		require.NoError(t, s.Append(ctx, "ann", 0, first), "a repeat of an earlier append")

		other := consentEvent("ann", 3, "newsletter")
		other.Data = append(other.Data, '!')
		require.ErrorIs(t, s.Append(ctx, "ann", 2, []consent.StoredEvent{other}), consent.ErrConflict)
		require.NoError(t, s.Append(ctx, "ann", 1, first[1:]), "the same events at the same places, however batched")
		require.ErrorIs(t, s.Append(ctx, "ann", 1, append(first[1:], consentEvent("ann", 3, "other"))), consent.ErrConflict, "a repeat that goes on differently")
		got, err := s.Events(ctx, "ann")
		require.NoError(t, err)
		if diff := cmp.Diff(append(first, next...), got); diff != "" {
			t.Fatalf("events (-want +got):\n%s", diff)
		}
	})
}

// TestConsentLargeAppend appends a batch of more events than one INSERT
// carries, and data of 1 MiB, which MySQL's BLOB would not hold.
func TestConsentLargeAppend(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, _ := openConsentStore(t, b)
		var evs []consent.StoredEvent
		for i := range 1201 {
			evs = append(evs, consentEvent("bulk", uint64(i+1), consent.PurposeID(fmt.Sprintf("p%d", i%3))))
		}
		evs[7].Data = make([]byte, 1<<20)
		evs[7].Data[0], evs[7].Data[1<<20-1] = 1, 2
		require.NoError(t, s.Append(ctx, "bulk", 0, evs))
		got, err := s.Events(ctx, "bulk")
		require.NoError(t, err)
		require.Len(t, got, len(evs))
		if diff := cmp.Diff(evs, got); diff != "" {
			t.Fatalf("events (-want +got):\n%s", diff)
		}
		d := consent.StoredDefinition{Kind: consent.DefinitionNotice, ID: "big", Data: make([]byte, consent.MaxDefinitionLen)}
		require.NoError(t, s.Define(ctx, d))
		defs, err := s.Definitions(ctx)
		require.NoError(t, err)
		require.Len(t, defs, 1)
		require.Equal(t, d.Data, defs[0].Data)
	})
}

// TestConsentRefusedArguments checks what the store refuses before the
// database sees it, and that a closed store refuses everything.
func TestConsentRefusedArguments(t *testing.T) {
	ctx := t.Context()
	b := backends(t)[1] // SQLite in memory
	s, _ := openConsentStore(t, b)
	for _, c := range []struct {
		name string
		err  error
	}{
		{"EmptySubject", s.Append(ctx, "", 0, []consent.StoredEvent{consentEvent("", 1, "")})},
		{"LongID", s.Append(ctx, "a", 0, []consent.StoredEvent{func() consent.StoredEvent {
			e := consentEvent("a", 1, "")
			e.ID = strings.Repeat("x", 65)
			return e
		}()})},
		{"SeqPastInt64", s.Append(ctx, "a", 1<<63, []consent.StoredEvent{consentEvent("a", 1<<63+1, "")})},
		{"EventsOfEmptySubject", func() error { _, err := s.Events(ctx, ""); return err }()},
		{"DefinitionWithoutKind", s.Define(ctx, consent.StoredDefinition{ID: "x", Data: []byte("{}")})},
		{"DefinitionWithLongID", s.Define(ctx, consent.StoredDefinition{Kind: consent.DefinitionNotice, ID: strings.Repeat("v", 65)})},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorIs(t, c.err, sqlstore.ErrInvalidArgument)
			require.NotErrorIs(t, c.err, consent.ErrConflict)
		})
	}
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
	require.ErrorIs(t, s.Append(ctx, "a", 0, []consent.StoredEvent{consentEvent("a", 1, "")}), sqlstore.ErrClosed)
	_, err := s.Events(ctx, "a")
	require.ErrorIs(t, err, sqlstore.ErrClosed)
	for _, err := range s.Subjects(ctx, "") {
		require.ErrorIs(t, err, sqlstore.ErrClosed)
	}
	require.ErrorIs(t, s.Define(ctx, consent.StoredDefinition{Kind: "purpose", ID: "p", Data: []byte("{}")}), sqlstore.ErrClosed)
	_, err = s.Definitions(ctx)
	require.ErrorIs(t, err, sqlstore.ErrClosed)
}

// TestConsentLedgerRestart runs a ledger over the store, then a second
// ledger over a second store opened on the same tables, as a restarted
// process does: purposes, notice versions and every past decision are as
// before.
func TestConsentLedgerRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		db, prefix := b.fresh(t)
		first, err := sqlstore.OpenConsentStore(ctx, db, b.dialect, b.opts(prefix))
		require.NoError(t, err)
		now := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
		notices := []consent.Notice{
			{Version: "2020-01", URL: "https://example.org/privacy/2020-01", Text: "We send a newsletter.",
				AnnouncedAt: consentSince, EffectiveAt: consentSince, Purposes: []consent.PurposeID{"newsletter"}},
			{Version: "2020-06", URL: "https://example.org/privacy/2020-06", Text: "We send a newsletter, weekly.",
				AnnouncedAt: consentSince.AddDate(0, 4, 0), EffectiveAt: consentSince.AddDate(0, 5, 10), Purposes: []consent.PurposeID{"newsletter"}},
		}
		l, err := consent.New(ctx, first, &consent.Options{Clock: func() time.Time { return now }, Purposes: consentPurposes(), Notices: notices})
		require.NoError(t, err)
		for i := range 5 {
			subj := personaldata.SubjectID(fmt.Sprintf("s%d", i))
			_, err := l.Record(ctx, grant(subj, consentSince.AddDate(0, i, 0)))
			require.NoError(t, err)
			if i%2 == 1 {
				_, err = l.Record(ctx, consent.Change{Type: consent.EventWithdraw, Subject: subj, Purpose: "newsletter",
					EffectiveAt: consentSince.AddDate(0, i+1, 0), Method: consent.MethodEmailLink, Actor: consent.ActorSubject})
				require.NoError(t, err)
			}
		}
		ask := func(l *consent.Ledger) []consent.Decision {
			var out []consent.Decision
			for i := range 6 {
				for _, p := range []consent.PurposeID{"newsletter", "service-announcements"} {
					for m := range 12 {
						d, err := l.Decide(ctx, personaldata.SubjectID(fmt.Sprintf("s%d", i)), p, consentSince.AddDate(0, m, 1))
						require.NoError(t, err)
						out = append(out, d)
					}
				}
			}
			return out
		}
		want, wantNotices, wantPurposes := ask(l), l.Notices(), l.Purposes()
		require.NoError(t, l.Close())
		require.NoError(t, first.Close())

		second, err := sqlstore.OpenConsentStore(ctx, db, b.dialect, b.opts(prefix))
		require.NoError(t, err)
		t.Cleanup(func() { _ = second.Close() })
		l2, err := consent.New(ctx, second, &consent.Options{Clock: func() time.Time { return now.AddDate(1, 0, 0) }})
		require.NoError(t, err)
		if diff := cmp.Diff(want, ask(l2)); diff != "" {
			t.Fatalf("decisions changed by a restart (-before +after):\n%s", diff)
		}
		require.Equal(t, wantNotices, l2.Notices(), "the notice archive")
		require.Equal(t, wantPurposes, l2.Purposes())
		for i := range 5 {
			require.NoError(t, l2.Verify(ctx, personaldata.SubjectID(fmt.Sprintf("s%d", i))))
		}
	})
}

// TestConsentTwoStoresOneDatabase appends through two stores opened on one
// database (as two processes do) for the same subjects at once: one
// winner per head, every chain whole.
func TestConsentTwoStoresOneDatabase(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		if b.name == "SQLiteMemory" {
			t.Skip("an in-memory database has one connection, so one store")
		}
		ctx := t.Context()
		db, prefix := b.fresh(t)
		var stores [2]*sqlstore.ConsentStore
		for i := range stores {
			s, err := sqlstore.OpenConsentStore(ctx, db, b.dialect, b.opts(prefix))
			require.NoError(t, err)
			stores[i] = s
		}
		const subjects, each = 4, 10
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				s := stores[w%2]
				for i := range subjects * each {
					subj := personaldata.SubjectID(fmt.Sprintf("s%d", i%subjects))
					for {
						evs, err := s.Events(ctx, subj)
						if err != nil {
							t.Error(err)
							return
						}
						e := consentEvent(subj, uint64(len(evs)+1), "newsletter")
						e.ID = fmt.Sprintf("%02d%024d", w, i)
						err = s.Append(ctx, subj, uint64(len(evs)), []consent.StoredEvent{e})
						if err == nil {
							break
						}
						if !errors.Is(err, consent.ErrConflict) {
							t.Error(err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		for i := range subjects {
			evs, err := stores[0].Events(ctx, personaldata.SubjectID(fmt.Sprintf("s%d", i)))
			require.NoError(t, err)
			require.Len(t, evs, 4*each)
			for k, e := range evs {
				require.Equal(t, uint64(k+1), e.Seq)
			}
		}
	})
}
