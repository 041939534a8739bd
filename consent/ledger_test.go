package consent_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

func TestRecordRejectsBadInput(t *testing.T) {
	t.Parallel()
	ok := consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(1),
		Method: consent.MethodForm, Actor: consent.ActorSubject}
	with := func(m func(*consent.Change)) consent.Change { c := ok; m(&c); return c }
	tests := []struct {
		name   string
		change consent.Change
		want   error
	}{
		{"unknown purpose", with(func(c *consent.Change) { c.Purpose = "nope" }), consent.ErrUnknownPurpose},
		{"no purpose", with(func(c *consent.Change) { c.Purpose = "" }), consent.ErrInvalidEvent},
		{"before the purpose existed", with(func(c *consent.Change) { c.EffectiveAt = t0.Add(-time.Hour) }), consent.ErrBeforePurpose},
		{"unknown notice", with(func(c *consent.Change) { c.NoticeVersion = "1999" }), consent.ErrUnknownNotice},
		{"notice superseded", with(func(c *consent.Change) { c.NoticeVersion = "2015-03" }), consent.ErrNoticeNotInForce},
		{"notice not yet in force", with(func(c *consent.Change) {
			c.NoticeVersion = "2016-01"
			c.EffectiveAt = v2At.Add(-time.Hour)
		}), consent.ErrNoticeNotInForce},
		{"no notice in force yet", with(func(c *consent.Change) { c.EffectiveAt = v1At.Add(-time.Hour) }), consent.ErrNoticeNotInForce},
		{"withdraw contract", with(func(c *consent.Change) { c.Type = consent.EventWithdraw; c.Purpose = announcements }), consent.ErrWithdrawalRefused},
		{"object to legal obligation", with(func(c *consent.Change) { c.Type = consent.EventObject; c.Purpose = invoices }), consent.ErrWithdrawalRefused},
		{"invalid subject", with(func(c *consent.Change) { c.Subject = "" }), personaldata.ErrInvalidSubject},
		{"unknown type", with(func(c *consent.Change) { c.Type = 99 }), consent.ErrInvalidEvent},
		{"no method", with(func(c *consent.Change) { c.Method = 0 }), consent.ErrInvalidEvent},
		{"no actor", with(func(c *consent.Change) { c.Actor = 0 }), consent.ErrInvalidEvent},
		{"in the future", with(func(c *consent.Change) { c.EffectiveAt = startAt.Add(time.Second) }), consent.ErrInvalidEvent},
		{"year 1500", with(func(c *consent.Change) { c.EffectiveAt = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC) }), consent.ErrInvalidEvent},
		{"grant by privacy signal", with(func(c *consent.Change) { c.Method = consent.MethodPrivacySignal }), consent.ErrInvalidEvent},
		{"erase with purpose", with(func(c *consent.Change) { c.Type = consent.EventErase }), consent.ErrInvalidEvent},
		{"expiry on a withdrawal", with(func(c *consent.Change) { c.Type = consent.EventWithdraw; c.ExpiresAt = day(9) }), consent.ErrInvalidEvent},
		{"expiry before effect", with(func(c *consent.Change) { c.ExpiresAt = day(0) }), consent.ErrInvalidEvent},
		{"born after the event", with(func(c *consent.Change) { c.BirthDate = day(2) }), consent.ErrInvalidEvent},
		{"personal data without sealer", with(func(c *consent.Change) {
			c.Personal = &consent.PersonalData{Contact: "jan@example.nl"}
		}), consent.ErrNoSealer},
		{"personal data too long", with(func(c *consent.Change) {
			c.Personal = &consent.PersonalData{Contact: string(make([]byte, consent.MaxContactLen+1))}
		}), consent.ErrInvalidEvent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			_, err := f.l.Record(context.Background(), tc.change)
			require.ErrorIs(t, err, tc.want)
			assert.Zero(t, f.store.Len(), "nothing appended")
			assert.NotContains(t, err.Error(), "jan@example.nl")
		})
	}
}

func TestErasedSubjectTakesNoEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.record(t, consent.Change{Type: consent.EventErase, Subject: "s", EffectiveAt: day(1), Actor: consent.ActorAdministrator})
	_, err := f.l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(2),
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	require.ErrorIs(t, err, consent.ErrErased)
	_, err = f.l.RecordBatch(ctx, []consent.Change{
		{Type: consent.EventErase, Subject: "t", Method: consent.MethodAPI, Actor: consent.ActorAdministrator},
		{Type: consent.EventGrant, Subject: "t", Purpose: newsletter, Method: consent.MethodAPI, Actor: consent.ActorSubject},
	})
	require.ErrorIs(t, err, consent.ErrErased)
	assert.Equal(t, 1, f.store.Len())
}

func TestRecordBatchIsAtomic(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.l.RecordBatch(ctx, []consent.Change{
		{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, Method: consent.MethodForm, Actor: consent.ActorSubject},
		{Type: consent.EventGrant, Subject: "s", Purpose: "nope", Method: consent.MethodForm, Actor: consent.ActorSubject},
	})
	require.ErrorIs(t, err, consent.ErrUnknownPurpose)
	_, err = f.l.RecordBatch(ctx, []consent.Change{
		{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, Method: consent.MethodForm, Actor: consent.ActorSubject},
		{Type: consent.EventGrant, Subject: "other", Purpose: newsletter, Method: consent.MethodForm, Actor: consent.ActorSubject},
	})
	require.ErrorIs(t, err, consent.ErrInvalidEvent)
	assert.Zero(t, f.store.Len())
	evs, err := f.l.RecordBatch(ctx, []consent.Change{
		{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, Method: consent.MethodForm, Actor: consent.ActorSubject},
		{Type: consent.EventGrant, Subject: "s", Purpose: testimonials, Method: consent.MethodForm, Actor: consent.ActorSubject},
	})
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, uint64(2), evs[1].Seq)
	assert.Equal(t, evs[0].Hash, evs[1].PrevHash)
}

func TestNoticeRegistration(t *testing.T) {
	t.Parallel()
	base := seedNotices()
	next := consent.Notice{Version: "2017-01", ContentHash: sha256.Sum256([]byte("x")), Purposes: []consent.PurposeID{newsletter},
		AnnouncedAt: time.Date(2016, 12, 1, 0, 0, 0, 0, time.UTC), EffectiveAt: time.Date(2016, 12, 31, 0, 0, 0, 0, time.UTC)}
	with := func(m func(*consent.Notice)) consent.Notice { n := next; m(&n); return n }
	tests := []struct {
		name   string
		notice consent.Notice
		want   error
	}{
		{"valid, exactly 30 days", next, nil},
		{"identical again", base[1], nil},
		{"29 days notice", with(func(n *consent.Notice) { n.EffectiveAt = n.AnnouncedAt.Add(29 * 24 * time.Hour) }), consent.ErrNoticePeriod},
		{"version changed after the fact", with(func(n *consent.Notice) { n.Version = "2016-01" }), consent.ErrInvalidNotice},
		{"before the previous version", with(func(n *consent.Notice) {
			n.AnnouncedAt, n.EffectiveAt = v1At, v2At.Add(-time.Hour)
		}), consent.ErrInvalidNotice},
		{"no content hash", with(func(n *consent.Notice) { n.ContentHash = [32]byte{} }), consent.ErrInvalidNotice},
		{"unknown purpose", with(func(n *consent.Notice) { n.Purposes = []consent.PurposeID{"nope"} }), consent.ErrUnknownPurpose},
		{"fresh consent for an uncovered purpose", with(func(n *consent.Notice) { n.FreshConsent = []consent.PurposeID{testimonials} }), consent.ErrInvalidNotice},
		{"empty version", with(func(n *consent.Notice) { n.Version = "" }), consent.ErrInvalidNotice},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			err := f.l.AddNotice(context.Background(), tc.notice)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.Len(t, f.l.Notices(), 2, "archive unchanged")
		})
	}

	t.Run("archive", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		if diff := cmp.Diff(seedNotices(), f.l.Notices()); diff != "" {
			t.Errorf("Notices() (-want +got):\n%s", diff)
		}
		n, ok := f.l.NoticeAt(v2At.Add(-time.Second))
		require.True(t, ok)
		assert.Equal(t, "2015-03", n.Version)
		_, ok = f.l.NoticeAt(t0)
		assert.False(t, ok)
	})
	t.Run("custom period", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *consent.Options) {
			o.NoticePeriod = 60 * 24 * time.Hour
			o.Notices = o.Notices[:1]
		})
		require.ErrorIs(t, f.l.AddNotice(context.Background(), next), consent.ErrNoticePeriod)
	})
}

func TestPurposeRegistration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		purpose consent.Purpose
		want    error
	}{
		{"valid", consent.Purpose{ID: "x", Basis: personaldata.Consent}, nil},
		{"identical again", seedPurposes()[0], nil},
		{"changed", consent.Purpose{ID: newsletter, Basis: personaldata.LegitimateInterests, Since: t0}, consent.ErrInvalidPurpose},
		{"bad ID", consent.Purpose{ID: "News Letter", Basis: personaldata.Consent}, consent.ErrInvalidPurpose},
		{"no basis", consent.Purpose{ID: "x"}, personaldata.ErrInvalidLegalBasis},
		{"opt-out consent", consent.Purpose{ID: "x", Basis: personaldata.Consent, Default: consent.OptOut}, consent.ErrInvalidPurpose},
		{"direct marketing on contract", consent.Purpose{ID: "x", Basis: personaldata.Contract, DirectMarketing: true}, consent.ErrInvalidPurpose},
		{"bad category", consent.Purpose{ID: "x", Basis: personaldata.Consent, Categories: []personaldata.Category{"E-mail"}}, consent.ErrInvalidPurpose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			err := f.l.AddPurpose(context.Background(), tc.purpose)
			if tc.want == nil {
				require.NoError(t, err)
				_, ok := f.l.Purpose(tc.purpose.ID)
				assert.True(t, ok)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
	t.Run("defaults and list", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ps := f.l.Purposes()
		require.Len(t, ps, len(seedPurposes()))
		want := map[consent.PurposeID]consent.Default{newsletter: consent.OptIn, announcements: consent.NoticeOnly, statistics: consent.OptOut}
		for _, p := range ps {
			if d, ok := want[p.ID]; ok {
				assert.Equal(t, d, p.Default, p.ID)
			}
		}
	})
}

func TestClose(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	require.NoError(t, f.l.Close())
	require.NoError(t, f.l.Close())
	_, err := f.l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, Method: consent.MethodForm, Actor: consent.ActorSubject})
	require.ErrorIs(t, err, consent.ErrClosed)
	_, err = f.l.Decide(ctx, "s", newsletter, startAt)
	require.ErrorIs(t, err, consent.ErrClosed)
	_, err = f.l.History(ctx, "s")
	require.ErrorIs(t, err, consent.ErrClosed)
	require.ErrorIs(t, f.l.AddPurpose(context.Background(), consent.Purpose{ID: "x", Basis: personaldata.Consent}), consent.ErrClosed)
	for _, err := range f.l.Filter(ctx, newsletter, func(func(personaldata.SubjectID) bool) {}, startAt) {
		require.ErrorIs(t, err, consent.ErrClosed)
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var all []personaldata.SubjectID
	var want []personaldata.SubjectID
	for i := range 50 {
		s := personaldata.SubjectID(fmt.Sprintf("s%02d", i))
		all = append(all, s)
		switch i % 3 {
		case 0:
			f.record(t, consent.Change{Type: consent.EventGrant, Subject: s, Purpose: newsletter, EffectiveAt: day(1)})
			want = append(want, s)
		case 1:
			f.record(t, consent.Change{Type: consent.EventGrant, Subject: s, Purpose: newsletter, EffectiveAt: day(1)})
			f.record(t, consent.Change{Type: consent.EventWithdraw, Subject: s, Purpose: newsletter, EffectiveAt: day(2)})
		}
	}
	var got []personaldata.SubjectID
	for s, err := range f.l.Filter(ctx, newsletter, slicesValues(all), day(3)) {
		require.NoError(t, err)
		got = append(got, s)
	}
	assert.Equal(t, want, got)

	for _, err := range f.l.Filter(ctx, "nope", slicesValues(all), day(3)) {
		require.ErrorIs(t, err, consent.ErrUnknownPurpose)
	}
	n := 0
	for range f.l.Filter(ctx, newsletter, slicesValues(all), day(3)) {
		n++
		break
	}
	assert.Equal(t, 1, n, "stops when the caller stops")
}

func slicesValues(s []personaldata.SubjectID) iter.Seq[personaldata.SubjectID] {
	return func(yield func(personaldata.SubjectID) bool) {
		for _, v := range s {
			if !yield(v) {
				return
			}
		}
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	e1 := f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(1),
		EvidenceHash: sha256.Sum256([]byte("form v3")), BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
	f.clock.Set(startAt.Add(time.Hour))
	e2 := f.record(t, consent.Change{Type: consent.EventWithdraw, Subject: "s", Purpose: newsletter, Method: consent.MethodEmailLink})
	h, err := f.l.History(ctx, "s")
	require.NoError(t, err)
	if diff := cmp.Diff([]consent.Event{e1, e2}, h); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	assert.Equal(t, startAt.Add(time.Hour), e2.EffectiveAt, "zero effective time means now")
	assert.Equal(t, startAt, e1.RecordedAt)
	assert.False(t, e1.Minor)

	h, err = f.l.History(ctx, "nobody")
	require.NoError(t, err)
	assert.Empty(t, h)

	// A second ledger over the same store loads the same state.
	l2, err := consent.New(ctx, f.store, &consent.Options{Purposes: seedPurposes(), Notices: seedNotices()})
	require.NoError(t, err)
	d, err := l2.Decide(ctx, "s", newsletter, day(2))
	require.NoError(t, err)
	assert.Equal(t, f.decide(t, "s", newsletter, day(2)), d)
}

func TestChangeRedactsItself(t *testing.T) {
	t.Parallel()
	c := consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, Method: consent.MethodForm,
		BirthDate: time.Date(1987, 6, 5, 0, 0, 0, 0, time.UTC),
		Personal:  &consent.PersonalData{Contact: "jan@example.nl", Evidence: "wrote in from 192.0.2.7"}}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("recording", "change", c, "personal", *c.Personal)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", c.Personal),
		fmt.Sprintf("%+v", *c.Personal), fmt.Sprintf("%#v", *c.Personal), fmt.Sprintf("%s", c), buf.String()} {
		assert.NotContains(t, s, "jan@")
		assert.NotContains(t, s, "192.0.2.7")
		assert.NotContains(t, s, "1987")
	}
}

func TestConcurrentLedgersShareAStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := consent.NewMemoryStore()
	var ledgers []*consent.Ledger
	for range 3 {
		l, err := consent.New(ctx, store, &consent.Options{Purposes: seedPurposes()})
		require.NoError(t, err)
		ledgers = append(ledgers, l)
	}
	var wg sync.WaitGroup
	const per = 20
	for i, l := range ledgers {
		for g := range 3 {
			wg.Go(func() {
				for k := range per {
					typ := consent.EventGrant
					if (i+g+k)%2 == 1 {
						typ = consent.EventWithdraw
					}
					_, err := l.Record(ctx, consent.Change{Type: typ, Subject: "shared", Purpose: newsletter,
						Method: consent.MethodAPI, Actor: consent.ActorSubject})
					assert.NoError(t, err)
				}
			})
		}
	}
	wg.Wait()
	require.NoError(t, ledgers[0].Sync(ctx, "shared"))
	h, err := ledgers[0].History(ctx, "shared")
	require.NoError(t, err)
	assert.Len(t, h, 3*3*per)
	for _, l := range ledgers {
		require.NoError(t, l.Sync(ctx, "shared"))
		require.NoError(t, l.Verify(ctx, "shared"))
	}
}

func TestStoreErrorsPassThrough(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk full")
	st := &faultyStore{Store: consent.NewMemoryStore(), err: boom}
	l, err := consent.New(context.Background(), st, &consent.Options{Purposes: seedPurposes()})
	require.NoError(t, err)
	_, err = l.Record(context.Background(), consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter,
		Method: consent.MethodAPI, Actor: consent.ActorSubject})
	require.ErrorIs(t, err, boom)
	d, err := l.Decide(context.Background(), "s", newsletter, time.Now())
	require.NoError(t, err)
	assert.Equal(t, consent.ReasonNoConsent, d.Reason, "a failed append leaves no trace")
}

type faultyStore struct {
	consent.Store
	err error
}

func (s *faultyStore) Append(context.Context, personaldata.SubjectID, uint64, []consent.StoredEvent) error {
	return s.err
}

// A notice period is told in days, as a privacy statement counts it.
func TestNoticePeriodErrorSpeaksInDays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		period time.Duration
		want   string
	}{
		{"whole days", 29 * 24 * time.Hour, "takes effect 29 days after its announcement, less than 30 days"},
		{"days and hours", 13*24*time.Hour + 15*time.Hour, "takes effect 13 days and 15 hours after"},
		{"one day and one hour", 25 * time.Hour, "takes effect 1 day and 1 hour after"},
		{"hours only", 5 * time.Hour, "takes effect 5 hours after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			n := consent.Notice{Version: "2017-01", ContentHash: sha256.Sum256([]byte("x")), Purposes: []consent.PurposeID{newsletter},
				AnnouncedAt: time.Date(2016, 12, 1, 0, 0, 0, 0, time.UTC)}
			n.EffectiveAt = n.AnnouncedAt.Add(tc.period)
			err := f.l.AddNotice(context.Background(), n)
			require.ErrorIs(t, err, consent.ErrNoticePeriod)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "h0m0s")
		})
	}
}
