package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/retention"
)

// notice2026 changes the newsletter (partner offers are added), so it asks
// for fresh consent for it.
var notice2026 = consent.Notice{
	Version: "2026-04", URL: "https://mail.example.nl/privacy/2026-04", Language: "nl",
	Text:        "Privacyverklaring 2026-04. De nieuwsbrief bevat voortaan ook aanbiedingen van partners; daarvoor vragen wij opnieuw uw toestemming. ...",
	AnnouncedAt: day("2026-03-02").Add(9 * time.Hour), EffectiveAt: day("2026-04-01").Add(9 * time.Hour),
	Purposes:     []consent.PurposeID{"service-announcements", "newsletter", "testimonials"},
	FreshConsent: []consent.PurposeID{"newsletter"},
}

// policyChange: a new version of the privacy statement is announced 30 days
// before it takes effect (002), and asks for fresh consent.
func (t *tour) policyChange(ctx context.Context) error {
	t.step("2026-03-02", "A change to the privacy statement is announced")
	hasty := notice2026
	hasty.Version, hasty.EffectiveAt = "2026-03b", day("2026-03-16")
	err := t.ledger.AddNotice(ctx, hasty)
	t.say("A version taking effect in two weeks is refused: %v", err)
	t.check(errors.Is(err, consent.ErrNoticePeriod), "a change takes effect no sooner than 30 days after it is announced (002)")
	if err := t.ledger.AddNotice(ctx, notice2026); err != nil {
		return err
	}
	t.say("Version %s is announced today and takes effect on %s; it asks fresh consent for the newsletter.",
		notice2026.Version, notice2026.EffectiveAt.Format(time.DateOnly))
	d, err := t.decide(ctx, "c-1003", "newsletter")
	if err != nil {
		return err
	}
	t.say("c-1003's newsletter consent meanwhile: %s (%s, under %s, until %s)", yesNo(d.Allowed), d.Reason, d.NoticeVersion, d.Until.Format(time.DateOnly))
	t.check(d.Allowed && d.Until.Equal(notice2026.EffectiveAt), "consent under the old version counts until the new one takes effect")
	return nil
}

// closedAccountAndHold: a customer leaves; the police investigate a fraud on
// his account, and a legal hold keeps his data past its deletion date.
func (t *tour) closedAccountAndHold(ctx context.Context) error {
	t.step("2026-03-16", "c-1002 closes his account; a legal hold is placed")
	c, err := t.data.customer(ctx, "c-1002")
	if err != nil {
		return err
	}
	c.Closed = t.clk.Now()
	if err := t.data.putCustomer(ctx, c); err != nil {
		return err
	}
	facts := retention.Facts{Subject: "c-1002", Category: "account", Collected: c.Created, AccountClosed: c.Closed}
	d, err := t.evaluator.Decide(ctx, customerKey+"c-1002", facts)
	if err != nil {
		return err
	}
	t.say("His account row: %s", d)
	h, err := t.evaluator.PlaceHold(ctx, retention.Hold{Subject: "c-1002", Reason: "fraud investigation, case 2026/117", PlacedBy: "legal-1"})
	if err != nil {
		return err
	}
	t.log.Info("hold placed", "hold", h)
	d, err = t.evaluator.Decide(ctx, customerKey+"c-1002", facts)
	if err != nil {
		return err
	}
	t.say("The police ask the provider to keep his data (%s). Now: %s", h.Reason, d)
	t.check(d.Verdict == retention.Keep && d.Reason == retention.ReasonHold, "a legal hold keeps data that would otherwise be deleted")
	return nil
}

// restart: the new version takes effect; the process restarts and the
// ledger, given no definitions at all, answers as before from its store.
func (t *tour) restart(ctx context.Context) error {
	t.step("2026-04-01", "The new statement takes effect; the service restarts")
	d, err := t.decide(ctx, "c-1003", "newsletter")
	if err != nil {
		return err
	}
	t.say("c-1003's newsletter consent under version 2025-11: %s (%s)", yesNo(d.Allowed), d.Reason)
	t.check(!d.Allowed && d.Reason == consent.ReasonFreshConsentRequired, "after a change that needs fresh consent, the old consent no longer counts")
	if _, err := t.ledger.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "c-1003", Purpose: "newsletter",
		Method: consent.MethodForm, Actor: consent.ActorSubject, EvidenceHash: sha256.Sum256([]byte(notice2026.Text))}); err != nil {
		return err
	}
	d, err = t.decide(ctx, "c-1003", "newsletter")
	if err != nil {
		return err
	}
	t.say("c-1003 agrees again under %s: %s (%s)", d.NoticeVersion, yesNo(d.Allowed), d.Reason)

	before, err := t.allDecisions(ctx)
	if err != nil {
		return err
	}
	cp, err := t.ledger.Checkpoint(ctx)
	if err != nil {
		return err
	}
	if t.checkpoint, err = cp.MarshalText(); err != nil {
		return err
	}
	t.say("Before the restart the ledger signs a checkpoint of every chain (%d subjects), kept outside its store.", len(cp.Leaves))
	t.stop()
	if err := t.start(ctx, false); err != nil {
		return err
	}
	t.say("Restarted. The new ledger is given no purposes and no notices: it reads them from its store.")
	after, err := t.allDecisions(ctx)
	if err != nil {
		return err
	}
	t.check(slices.Equal(before, after), fmt.Sprintf("the restarted ledger gives the same %d decisions as before", len(after)))
	verified := 0
	for _, p := range people {
		if err := t.ledger.Verify(ctx, personaldata.SubjectID(p.ID)); err != nil {
			return err
		}
		verified++
	}
	t.check(verified == len(people), "every consent chain verifies against the checkpoint")

	var versions []string
	for _, n := range t.ledger.Notices() {
		versions = append(versions, n.Version+" (in force from "+n.EffectiveAt.Format(time.DateOnly)+")")
	}
	t.say("The archive of the statement: %s.", strings.Join(versions, "; "))
	old, err := t.ledger.NoticeVersion("2025-11")
	if err != nil {
		return err
	}
	t.say("Version 2025-11 reads: %q", short(old.Text, 60))
	t.check(old.Text == notice2025.Text && old.ContentHash == sha256.Sum256([]byte(notice2025.Text)),
		"earlier versions of the statement stay readable in the archive (003)")

	// An older copy of the ledger's store, without c-1003's new grant, is put
	// back by mistake. A ledger started with the checkpoint notices.
	older, err := t.olderLedgerCopy(ctx, "c-1003")
	if err != nil {
		return err
	}
	l, err := consent.New(ctx, older, &consent.Options{Clock: t.clk.Now, Sealer: t.protector,
		CheckpointKey: ed25519.NewKeyFromSeed(secret("checkpoint key")), Checkpoint: t.checkpoint})
	if err != nil {
		return err
	}
	defer l.Close()
	_, err = l.Decide(ctx, "c-1003", "newsletter", t.clk.Now())
	var ce *consent.ChainError
	t.say("An older copy of the ledger's store, without c-1003's new grant, is started with the checkpoint:")
	t.say("  %v", err)
	t.check(errors.As(err, &ce) && ce.Problem == consent.ChainTruncated, "a ledger put back in time is caught by its checkpoint")
	return nil
}

// olderLedgerCopy copies the consent store as it was before the last event
// of subject: what an older backup of it would hold.
func (t *tour) olderLedgerCopy(ctx context.Context, subject personaldata.SubjectID) (consent.Store, error) {
	cp := consent.NewMemoryStore()
	defs, err := t.st.consent.Definitions(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if err := cp.Define(ctx, d); err != nil {
			return nil, err
		}
	}
	for _, p := range people {
		s := personaldata.SubjectID(p.ID)
		evs, err := t.st.consent.Events(ctx, s)
		if err != nil {
			return nil, err
		}
		if s == subject {
			evs = evs[:len(evs)-1]
		}
		if err := cp.Append(ctx, s, 0, evs); err != nil {
			return nil, err
		}
	}
	return cp, nil
}

// allDecisions decides every customer and purpose now, for comparing.
func (t *tour) allDecisions(ctx context.Context) ([]consent.Decision, error) {
	var out []consent.Decision
	for _, p := range people {
		for _, pu := range purposes {
			d, err := t.decide(ctx, personaldata.SubjectID(p.ID), pu.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// sweep runs the retention sweep over the data database and narrates it.
func (t *tour) sweep(ctx context.Context) (retention.Report, error) {
	recs, err := t.data.records(ctx)
	if err != nil {
		return retention.Report{}, err
	}
	seq := func(yield func(retention.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
	rep, err := t.evaluator.Sweep(ctx, seq, disposer{t.data}, retention.SweepOptions{})
	if err != nil {
		return rep, err
	}
	t.say("Retention sweep: %d records seen, %d deleted, %d kept (%d of them under a legal hold).",
		rep.Seen, rep.Deleted, rep.ByVerdict[retention.Keep], rep.Held)
	return rep, nil
}

// nightlySweep: the account of c-1002 is due for deletion, but held.
func (t *tour) nightlySweep(ctx context.Context) error {
	t.step("2026-05-04", "The nightly retention sweep")
	rep, err := t.sweep(ctx)
	if err != nil {
		return err
	}
	c, err := t.data.customer(ctx, "c-1002")
	if err != nil {
		return err
	}
	t.say("c-1002's account was due on 2026-04-15 (30 days after closing); it is still there: %s", yesNo(c != nil))
	t.check(rep.Held == 1 && rep.Deleted == 0 && c != nil, "a legal hold stops the deletion")
	return nil
}

// holdReleased: the investigation ends; the next sweep deletes the account.
func (t *tour) holdReleased(ctx context.Context) error {
	t.step("2026-06-01", "The investigation ends")
	holds, err := t.evaluator.ActiveHolds(ctx, "c-1002", "")
	if err != nil {
		return err
	}
	for _, h := range holds {
		if _, err := t.evaluator.ReleaseHold(ctx, h.ID, "legal-1"); err != nil {
			return err
		}
	}
	t.say("The hold on c-1002 is released.")
	rep, err := t.sweep(ctx)
	if err != nil {
		return err
	}
	c, err := t.data.customer(ctx, "c-1002")
	if err != nil {
		return err
	}
	t.check(len(holds) == 1 && rep.Deleted == 1 && c == nil, "once the hold is released, the closed account is deleted")
	invs, err := t.data.invoices(ctx, "c-1002")
	if err != nil {
		return err
	}
	t.say("His %d invoices stay for the tax authority.", len(invs))
	return nil
}
