package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/export"
	"github.com/personaldata/personaldata/pii"
)

// registerExports tells the exporter what the provider holds, where it comes
// from, why and who receives it (GDPR Art. 15(1)); the retention statement of
// each category comes from the policy, the consent history from the ledger.
func (t *tour) registerExports() error {
	accounts := func(ctx context.Context, s personaldata.SubjectID) iter.Seq2[*Customer, error] {
		return func(yield func(*Customer, error) bool) {
			c, err := t.data.customer(ctx, string(s))
			if err != nil {
				yield(nil, err)
				return
			}
			if c != nil {
				yield(c, nil) // protected: the exporter reveals it
			}
		}
	}
	invoices := func(ctx context.Context, s personaldata.SubjectID) iter.Seq2[Invoice, error] {
		return func(yield func(Invoice, error) bool) {
			rows, err := t.data.invoices(ctx, string(s))
			if err != nil {
				yield(Invoice{}, err)
				return
			}
			for _, r := range rows {
				inv, err := t.openInvoice(ctx, r)
				if !yield(inv, err) {
					return
				}
			}
		}
	}
	err := t.exporter.Register(export.Category{
		Name: "account", Title: "Your account", Origin: export.Provided, Portable: true,
		Description: "What you gave us when you signed up, and your review if you wrote one.",
		Purposes:    []export.Purpose{{ID: "service", Description: "Providing the mail and hosting service", Basis: personaldata.Contract}},
		Recipients:  []export.Recipient{{Name: "Online SAS", Role: "processor (hosting and backups)", Country: "FR"}},
	}, export.SourceFunc(accounts))
	if err != nil {
		return err
	}
	return t.exporter.Register(export.Category{
		Name: billingCategory, Kind: "invoice", Title: "Invoices", Origin: export.Observed, Portable: true,
		Purposes:   []export.Purpose{{ID: "invoicing", Description: "Invoicing and the tax administration", Basis: personaldata.LegalObligation}},
		Recipients: []export.Recipient{{Name: "ECL Direct SAS", Role: "processor (accounting)", Country: "FR"}},
	}, export.SourceFunc(invoices))
}

// openInvoice reads a stored invoice; an erased billing address reads as
// "(erased)".
func (t *tour) openInvoice(ctx context.Context, r invoiceRow) (Invoice, error) {
	inv := Invoice{Number: r.Number, Issued: r.Issued, AmountCt: r.AmountCt}
	b, err := t.protector.Open(ctx, personaldata.SubjectID(r.Customer), fiscalScope(r.Issued), billingCategory, r.BillTo)
	switch {
	case errors.Is(err, pii.ErrErased):
		inv.BillTo = "(erased)"
	case err != nil:
		return inv, err
	default:
		inv.BillTo = string(b)
	}
	return inv, nil
}

// accessRequest: c-1001 asks for a copy of her data (001, 003), answered
// within 30 days as a zip whose every checksum is checked.
func (t *tour) accessRequest(ctx context.Context) error {
	t.step("2026-04-10", "c-1001 asks for a copy of her data")
	req, err := t.erasure.Submit(ctx, erasure.Submission{Subject: "c-1001", Kind: erasure.KindAccess, Actor: "subject"})
	if err != nil {
		return err
	}
	if req, err = t.erasure.VerifyIdentity(ctx, req.ID, "staff-3"); err != nil {
		return err
	}
	t.say("An %s request arrives; her identity is checked with a copy of her ID (001); due %s.", req.Kind, req.Due.Format(time.DateOnly))
	if _, err := t.erasure.Start(ctx, req.ID, "staff-3"); err != nil {
		return err
	}

	path := filepath.Join(t.cfg.dir, "access-c-1001.zip")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	m, err := t.exporter.WritePackage(ctx, f, export.Request{Subject: "c-1001"})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	t.say("The export writes %s:", filepath.Base(path))
	counts := map[personaldata.Category]int64{}
	for _, c := range m.Categories {
		if c.RecordCount != nil {
			counts[c.Name] = *c.RecordCount
		}
		rules := "-"
		if c.Retention != nil {
			rules = strings.Join(c.Retention.Rules, ", ")
		}
		t.say("  %-18s %d record(s), retention rules: %s", c.Name, counts[c.Name], rules)
	}
	files, bad, err := verifyChecksums(path)
	if err != nil {
		return err
	}
	t.say("Re-reading the zip: %d files, every SHA-256 in %s checked, %d mismatches.", files, export.ChecksumsPath, bad)
	t.check(bad == 0 && files == len(m.Files)+1, "the package's checksums all match its files")
	t.check(counts["account"] == 1 && counts[billingCategory] == 2 && counts[export.ConsentEvents] == 2,
		"the copy holds her account, both invoices and her consent history")
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	plain, err := unzipAll(raw)
	if err != nil {
		return err
	}
	t.check(!bytes.Contains(plain, []byte("pd1:")) && bytes.Contains(plain, []byte(people[0].Address)),
		"the copy is readable: revealed values, no ciphertext")

	req, rc, err := t.erasure.Complete(ctx, req.ID, "staff-3")
	if err != nil {
		return err
	}
	t.say("Sent to her on %s; request %s, receipt %s.", t.clk.Now().Format(time.DateOnly), req.State, rc.ID)
	t.check(req.State == erasure.StateCompleted && !t.clk.Now().After(req.Due), "an access request is answered within its deadline (001: 30 days)")
	t.firstAccess = req.ID
	return nil
}

// repeatedRequest: the same request again ten days later may be refused as
// excessive (003), with the earlier request as evidence.
func (t *tour) repeatedRequest(ctx context.Context) error {
	t.step("2026-04-20", "c-1001 asks for a copy again")
	req, err := t.erasure.Submit(ctx, erasure.Submission{Subject: "c-1001", Kind: erasure.KindAccess, Actor: "subject"})
	if err != nil {
		return err
	}
	t.say("The same request, ten days after the first was answered: a repeat of %s: %s", t.firstAccess, yesNo(req.RepeatOf == t.firstAccess))
	req, rc, err := t.erasure.RefuseExcessive(ctx, req.ID, "staff-3")
	if err != nil {
		return err
	}
	t.say("Refused, with the reason she is told: %q", rc.Refusal.Reason)
	t.check(req.State == erasure.StateRefused && rc.Refusal.Evidence != "", "an unreasonably repeated request may be refused, with its evidence on the receipt (003)")
	return nil
}

// verifyChecksums re-reads a package and checks every line of its
// checksums.sha256 against the file it names, and that no file is left out.
func verifyChecksums(path string) (files, bad int, err error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return 0, 0, err
	}
	defer zr.Close()
	sums := map[string]string{}
	cf, err := zr.Open(export.ChecksumsPath)
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(cf)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			return 0, 0, fmt.Errorf("%s: malformed line", export.ChecksumsPath)
		}
		sums[name] = sum
	}
	cf.Close()
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	for _, zf := range zr.File {
		if zf.Name == export.ChecksumsPath {
			continue
		}
		files++
		rc, err := zf.Open()
		if err != nil {
			return 0, 0, err
		}
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return 0, 0, err
		}
		if sums[zf.Name] != hex.EncodeToString(h.Sum(nil)) {
			bad++
		}
		delete(sums, zf.Name)
	}
	return files, bad + len(sums), nil
}

// unzipAll returns the contents of every file of a zip, concatenated.
func unzipAll(raw []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, err
	}
	var all bytes.Buffer
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(&all, rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
	}
	return all.Bytes(), nil
}
