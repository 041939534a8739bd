package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
)

// erasureRequest: c-1001 asks to be erased. Her profile is shredded and
// deleted, her invoices kept for the tax law, her address suppressed, and the
// signed receipt says so without a word of personal data.
func (t *tour) erasureRequest(ctx context.Context) error {
	t.clk.set(day("2026-05-11").Add(2 * time.Hour))
	t.backupAt = t.clk.Now()
	t.backupPath = filepath.Join(t.cfg.dir, "backup-2026-05-11.db")
	if err := t.data.backup(ctx, t.backupPath); err != nil {
		return err
	}
	t.step("2026-05-11", "c-1001 asks to be erased")
	t.say("(At 02:00 the nightly backup of the data database was taken.)")
	req, err := t.erasure.Submit(ctx, erasure.Submission{Subject: "c-1001", Kind: erasure.KindErasure, Actor: "subject",
		Identifiers: []erasure.Identifier{erasure.Email(people[0].Email)}})
	if err != nil {
		return err
	}
	if req, err = t.erasure.VerifyIdentity(ctx, req.ID, "staff-3"); err != nil {
		return err
	}
	t.say("Her erasure request arrives by e-mail; identity checked; due %s.", req.Due.Format(time.DateOnly))
	plan, err := t.erasure.Plan(ctx, "c-1001")
	if err != nil {
		return err
	}
	t.say("The plan, before anything is done:")
	for _, sp := range plan.Scopes {
		if sp.Now {
			t.say("  key scope %-12s shred now", sp.Scope)
		} else {
			t.say("  key scope %-12s keep until %s (rule %s, %s)", sp.Scope, sp.Until.Format(time.DateOnly), sp.RuleID, sp.Citation)
		}
	}
	for _, s := range plan.Systems {
		t.say("  system %-16s %s", s.Name, s.Does)
	}
	t.say("  tell %s; record the erasure in the consent ledger: %s", strings.Join(plan.Recipients, ", "), yesNo(plan.Consent))

	req, rc, err := t.erasure.Execute(ctx, req.ID, "staff-3")
	if err != nil {
		return err
	}
	t.say("Executed: request %s. The receipt, as anyone with the provider's public key can read it:", req.State)
	got, err := erasure.Verify(rc.Token, t.erasure.PublicKey())
	if err != nil {
		return err
	}
	t.say("  receipt %s, number %d in the chain; the subject only as a keyed hash: %s…", got.ID, got.Seq, got.SubjectRef[:12])
	t.say("  erased key scopes: %v; suppressed identifiers: %d", got.Erased.Scopes, got.Erased.Suppressed)
	for _, so := range got.Erased.Systems {
		t.say("  %s: %d row removed, %d index entry removed", so.Name, so.Removed, so.IndexEntries)
		for _, r := range so.Retained {
			t.say("  %s: %d kept: %s", so.Name, r.Count, r.Reason)
		}
	}
	for _, k := range got.Kept {
		t.say("  kept %s until %s: %s", k.Scope, k.Until.Format(time.DateOnly), k.Citation)
	}
	for _, r := range got.Recipients {
		t.say("  told %s: %s", r.Name, yesNo(r.Notified))
	}
	t.check(len(got.Kept) == 2 && got.Kept[0].Citation == "AWR art. 52 lid 4" && slices.Equal(got.Erased.Scopes, []personaldata.Scope{personaldata.DefaultScope}),
		"the receipt verifies with the public key, and lists what was erased and what was kept, with the law")
	t.check(req.State == erasure.StateCompleted && !t.clk.Now().After(req.Due), "the erasure is done within its deadline")
	tampered := tamper(rc.Token)
	_, err = erasure.Verify(tampered, t.erasure.PublicKey())
	t.check(errors.Is(err, erasure.ErrInvalidReceipt), "an edited receipt fails verification")

	row, err := t.data.customer(ctx, "c-1001")
	if err != nil {
		return err
	}
	ix, err := t.protector.BlindIndex(Customer{}, "Email", people[0].Email)
	if err != nil {
		return err
	}
	_, found, err := t.data.findByEmailIndex(ctx, ix)
	if err != nil {
		return err
	}
	t.check(row == nil && !found, "her profile and its e-mail index are gone")
	invs, err := t.data.invoices(ctx, "c-1001")
	if err != nil {
		return err
	}
	readable := len(invs) == 2
	for _, r := range invs {
		inv, err := t.openInvoice(ctx, r)
		if err != nil {
			return err
		}
		readable = readable && inv.BillTo != "(erased)"
	}
	t.check(readable, "her invoices stay readable for the tax authority (001, 004)")

	d, err := t.decide(ctx, "c-1001", "newsletter")
	if err != nil {
		return err
	}
	hist, err := t.ledger.History(ctx, "c-1001")
	if err != nil {
		return err
	}
	_, rerr := t.ledger.Reveal(ctx, hist[0])
	verr := t.ledger.Verify(ctx, "c-1001")
	t.say("Consent ledger: newsletter %s (%s); %d events, chain intact: %s; the address of her grant: %v",
		yesNo(d.Allowed), d.Reason, len(hist), yesNo(verr == nil), rerr)
	t.check(d.Reason == consent.ReasonErased && verr == nil && errors.Is(rerr, consent.ErrErased),
		"the consent history still proves what happened, but holds nothing personal any more")
	err = t.protector.Protect(ctx, &Customer{ID: "c-1001", Email: "new@example.nl"})
	t.check(errors.Is(err, pii.ErrForgotten), "nothing new can be encrypted under her erased profile key")
	return nil
}

// tamper changes one character of a receipt's payload.
func tamper(tok string) string {
	h, rest, _ := strings.Cut(tok, ".")
	i := len(rest) / 3
	c := byte('A')
	if rest[i] == 'A' {
		c = 'B'
	}
	return h + "." + rest[:i] + string(c) + rest[i+1:]
}

// backupRestored: the data disk is lost and last night's backup, taken before
// the erasure, is restored. The erased profile comes back as ciphertext whose
// key is gone; the restore guard erases the row again.
func (t *tour) backupRestored(ctx context.Context) error {
	t.step("2026-05-12", "A disk fails; the backup of 2026-05-11 02:00 is restored")
	if err := t.data.restore(ctx, t.backupPath); err != nil {
		return err
	}
	row, err := t.data.customer(ctx, "c-1001")
	if err != nil {
		return err
	}
	if row == nil {
		return offPath("the backup has no row c-1001")
	}
	err = t.protector.Reveal(ctx, row)
	var oe *pii.OpError
	var fields []string
	if errors.As(err, &oe) {
		for _, f := range oe.Fields {
			fields = append(fields, f.Path)
		}
	}
	ks, err := t.st.keys.GetKeys(ctx, []pii.KeyRef{{Subject: "c-1001", Scope: personaldata.DefaultScope}})
	if err != nil {
		return err
	}
	t.say("Only the data database was restored; in the key database her profile key is %s.", ks[0].State)
	t.say("The restored row c-1001 is back, but its key is not: erased fields %s; name reads %q.", strings.Join(fields, ", "), row.Name)
	t.check(ks[0].State == pii.KeyShredded && oe != nil && oe.OnlyErased() && len(fields) == 4 && row.Name == "(erased)",
		"a restored backup shows nothing erased: the profile reads as erased (003, 004)")
	invs, err := t.data.invoices(ctx, "c-1001")
	if err != nil {
		return err
	}
	inv, err := t.openInvoice(ctx, invs[0])
	if err != nil {
		return err
	}
	t.say("Her invoice %s still reads: billed to %q.", inv.Number, inv.BillTo)

	rep, err := t.erasure.Reapply(ctx, t.backupAt)
	if err != nil {
		return err
	}
	row, err = t.data.customer(ctx, "c-1001")
	if err != nil {
		return err
	}
	t.say("Before serving traffic, the restore guard re-applies every erasure since the backup: %d request(s), %d step(s).", rep.Requests, rep.Steps)
	t.check(rep.Requests == 1 && row == nil, "after the restore the erased row is deleted again")
	return nil
}

// reimport: an old mailing list is imported; the erased person is not
// brought back.
func (t *tour) reimport(ctx context.Context) error {
	t.step("2026-05-13", "An old mailing list is imported")
	list := []string{"ANNA.DE.VRIES@example.nl", "dirk@example.net"}
	var refused, added int
	for i, addr := range list {
		hits, err := t.erasure.Suppressed(ctx, erasure.Email(addr))
		if err != nil {
			return err
		}
		if len(hits) > 0 {
			refused++
			t.say("Address %d of the list belongs to someone erased on %s: not imported.", i+1, hits[0].AddedAt.Format(time.DateOnly))
			continue
		}
		c := Customer{ID: fmt.Sprintf("c-%d", 1004+added), Email: addr, Plan: "newsletter-only", Created: t.clk.Now()}
		if err := t.protector.Protect(ctx, &c); err != nil {
			return err
		}
		if err := t.data.putCustomer(ctx, &c); err != nil {
			return err
		}
		added++
		t.say("Address %d of the list is new: imported as %s.", i+1, c.ID)
	}
	t.check(refused == 1 && added == 1, "an erased person is not brought back by an import (suppression list)")
	return nil
}

// sevenYearsLater: the retention of the invoices ends, year by year; their
// keys are shredded and their rows deleted, and the last one forgets her.
func (t *tour) sevenYearsLater(ctx context.Context) error {
	for _, y := range []struct {
		day, title string
		scope      personaldata.Scope
	}{
		{"2033-01-03", "Seven years after fiscal 2025: its invoices go", "fiscal-2025"},
		{"2034-01-02", "Seven years after fiscal 2026: the last invoices go", "fiscal-2026"},
	} {
		t.step(y.day, y.title)
		before, err := t.data.invoices(ctx, "c-1001")
		if err != nil {
			return err
		}
		due, err := t.erasure.RunDue(ctx)
		if err != nil {
			return err
		}
		t.say("Scheduled erasures: %d key scope(s) shredded, %d subject(s) forgotten, %d supplementary receipt(s).", due.Shredded, due.Forgotten, due.Receipts)
		erased, readable := 0, 0
		for _, r := range before {
			inv, err := t.openInvoice(ctx, r)
			if err != nil {
				return err
			}
			switch {
			case fiscalScope(r.Issued) == y.scope && inv.BillTo == "(erased)":
				erased++
			case fiscalScope(r.Issued) != y.scope && inv.BillTo != "(erased)":
				readable++
			}
		}
		t.say("c-1001's invoice of %s now reads as erased: %s.", y.scope, yesNo(erased == 1))
		if len(before) > 1 {
			t.say("Her invoice of a later year still reads: %s.", yesNo(readable == 1))
		}
		t.say("The sweep deletes the invoice rows of that year, every customer's:")
		rep, err := t.sweep(ctx)
		if err != nil {
			return err
		}
		t.check(due.Shredded == 1 && erased == 1 && readable == len(before)-1 && rep.Deleted == 3,
			fmt.Sprintf("the invoices under %s are erased when their 7 years end, and the later ones are not", y.scope))
	}
	invs, err := t.data.invoices(ctx, "c-1001")
	if err != nil {
		return err
	}
	kept, err := t.erasure.Kept(ctx, "c-1001")
	if err != nil {
		return err
	}
	n, err := t.erasure.VerifyReceipts(ctx)
	if err != nil {
		return err
	}
	err = t.protector.Protect(ctx, &Customer{ID: "c-1001", Email: "new@example.nl"})
	t.say("Nothing of c-1001 is left: %d rows, %d kept scopes; her key store entry is a tombstone for every scope.", len(invs), len(kept))
	t.check(len(invs) == 0 && len(kept) == 0 && errors.Is(err, pii.ErrForgotten), "in the end, nothing of her is kept, and no key of hers can come back")
	t.check(n >= 4, fmt.Sprintf("the whole receipt chain (%d receipts) verifies", n))
	return nil
}
