package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/pii"
)

// The people of the story. Their personal data appears here and in the
// narration, never in a log line or the data database.
var people = []Customer{
	{ID: "c-1001", Email: "Anna.de.Vries@example.nl", Name: "Anna de Vries", Address: "Oudegracht 12, 3511 AB Utrecht",
		SignupIP: "203.0.113.7", Plan: "mail-pro"},
	{ID: "c-1002", Email: "bram.bakker@example.com", Name: "Bram Bakker", Address: "Dorpsstraat 3, 8011 AA Zwolle",
		SignupIP: "198.51.100.23", Plan: "hosting", Testimonial: "Fast, friendly support, even on Sundays."},
	{ID: "c-1003", Email: "chris@example.org", Name: "Chris Jansen", Address: "Markt 1, 5611 EB Eindhoven",
		SignupIP: "192.0.2.99", Plan: "mail-basic"},
}

// personalValues are every personal value of the story, for the checks that
// none of them is stored or logged in the clear.
func personalValues() []string {
	var out []string
	for _, p := range people {
		out = append(out, p.Email, strings.ToLower(p.Email), p.Name, p.Address, p.SignupIP)
		if p.Testimonial != "" {
			out = append(out, p.Testimonial)
		}
	}
	return append(out, "dirk@example.net")
}

// signUp: three customers register. Their rows are protected before they are
// written, and a customer logs in by e-mail address through a blind index.
func (t *tour) signUp(ctx context.Context) error {
	t.step("2025-11-03", "Three customers sign up")
	t.say("The provider keeps customers and invoices in %s (SQLite); %s.", filepath.Base(t.cfg.dbPath), t.st.where)
	for i, p := range people {
		c := p
		c.Created = t.clk.Now()
		t.log.Info("signup", "customer", pii.Redact(c)) // logs never carry personal data
		if err := t.protector.Protect(ctx, &c); err != nil {
			return err
		}
		if err := t.data.putCustomer(ctx, &c); err != nil {
			return err
		}
		if err := t.invoice(ctx, p, fmt.Sprintf("2025-%04d", i+1), 1250); err != nil {
			return err
		}
	}
	row, err := t.data.customer(ctx, "c-1001")
	if err != nil {
		return err
	}
	t.say("Row c-1001 as stored: email=%s name=%s plan=%s", cipherText(row.Email), cipherText(row.Name), row.Plan)
	t.say("Each customer got an invoice; its billing name and address are sealed under the key scope fiscal-2025.")
	raw, err := os.ReadFile(t.cfg.dbPath)
	if err != nil {
		return err
	}
	t.check(!containsAny(raw, personalValues()), "the data database holds no personal data in the clear")

	ix, err := t.protector.BlindIndex(Customer{}, "Email", " anna.de.vries@EXAMPLE.nl ")
	if err != nil {
		return err
	}
	id, found, err := t.data.findByEmailIndex(ctx, ix)
	if err != nil {
		return err
	}
	t.say("Log-in as \" anna.de.vries@EXAMPLE.nl \": the blind index finds %s, nothing decrypted.", id)
	t.check(found && id == "c-1001", "a customer is found by e-mail address without decrypting anyone's row")

	if err := t.protector.Reveal(ctx, row); err != nil {
		return err
	}
	t.say("Her account page, after Reveal: %s, %s", row.Name, row.Address)
	return nil
}

// invoice issues an invoice to p, sealing its billing data under the key
// scope of the current fiscal year.
func (t *tour) invoice(ctx context.Context, p Customer, number string, cents int64) error {
	now := t.clk.Now()
	billTo := p.Name + ", " + p.Address
	sealed, err := t.protector.Seal(ctx, personaldata.SubjectID(p.ID), fiscalScope(now), billingCategory, []byte(billTo))
	if err != nil {
		return err
	}
	return t.data.addInvoice(ctx, invoiceRow{Number: number, Customer: p.ID, Issued: now, BillTo: sealed, AmountCt: cents})
}

// cipherText shows a stored ciphertext by its prefix and length: its bytes
// differ on every run (random nonces).
func cipherText(s string) string {
	prefix, _, _ := strings.Cut(s, ":")
	return fmt.Sprintf("%s:…(%d chars)", prefix, len(s))
}

func containsAny(b []byte, values []string) bool {
	for _, v := range values {
		if bytes.Contains(b, []byte(v)) {
			return true
		}
	}
	return false
}

// consentAndTestimonial: the newsletter is opt-in (004), and a testimonial is
// published only after prior consent (002).
func (t *tour) consentAndTestimonial(ctx context.Context) error {
	t.step("2025-11-04", "Newsletter sign-up and a testimonial")
	d, err := t.decide(ctx, "c-1001", "newsletter")
	if err != nil {
		return err
	}
	t.say("May c-1001 get the newsletter before signing up for it? %s (%s)", yesNo(d.Allowed), d.Reason)
	t.check(!d.Allowed && d.Reason == consent.ReasonNoConsent, "the newsletter is opt-in: an address is never added automatically (004)")

	form := "Ja, stuur mij de maandelijkse nieuwsbrief."
	for _, g := range []struct {
		who    personaldata.SubjectID
		email  string
		method consent.Method
	}{{"c-1001", people[0].Email, consent.MethodForm}, {"c-1003", people[2].Email, consent.MethodEmailLink}} {
		ev, err := t.ledger.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: g.who, Purpose: "newsletter",
			Method: g.method, Actor: consent.ActorSubject, EvidenceHash: sha256.Sum256([]byte(form)),
			Personal: &consent.PersonalData{Contact: g.email}})
		if err != nil {
			return err
		}
		t.log.Info("consent recorded", "event", ev)
	}
	t.say("c-1001 ticks the box on the sign-up form; c-1003 confirms by a link in an e-mail.")
	t.say("The e-mail address each grant was made for is sealed under the customer's key in the ledger.")

	ok, err := t.publish(ctx, "c-1002")
	if err != nil {
		return err
	}
	t.say("c-1002 wrote a review. Publish it? %s", map[bool]string{true: "published", false: "not without consent"}[ok])
	t.check(!ok, "a testimonial is not published without prior consent (002)")
	if _, err := t.ledger.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "c-1002", Purpose: "testimonials",
		Method: consent.MethodForm, Actor: consent.ActorSubject,
		EvidenceHash: sha256.Sum256([]byte("Ja, u mag mijn recensie met mijn naam op uw site plaatsen."))}); err != nil {
		return err
	}
	ok, err = t.publish(ctx, "c-1002")
	if err != nil {
		return err
	}
	t.say("c-1002 agrees on a form. Publish it now? %s", map[bool]string{true: "published", false: "not without consent"}[ok])
	t.check(ok, "after consent the testimonial is published")
	return nil
}

// publish puts a customer's testimonial on the site if the ledger allows it.
func (t *tour) publish(ctx context.Context, id personaldata.SubjectID) (bool, error) {
	d, err := t.decide(ctx, id, "testimonials")
	if err != nil || !d.Allowed {
		return false, err
	}
	c, err := t.data.customer(ctx, string(id))
	if err != nil {
		return false, err
	}
	c.Published = true
	return true, t.data.putCustomer(ctx, c)
}

// mailingDay: the monthly newsletter goes out with a one-click unsubscribe
// link (RFC 8058); a service announcement goes to everyone (002).
func (t *tour) mailingDay(ctx context.Context) error {
	t.step("2026-02-02", "Mailing day")
	for i, p := range people {
		if err := t.invoice(ctx, p, fmt.Sprintf("2026-%04d", i+1), 1250); err != nil {
			return err
		}
	}
	t.say("The second invoices are issued, sealed under the key scope fiscal-2026.")
	list, err := t.mailingList(ctx, "newsletter")
	if err != nil {
		return err
	}
	t.say("Newsletter mailing list: %s", strings.Join(list, ", "))
	t.check(slices.Equal(list, []string{"c-1001", "c-1003"}), "the newsletter goes only to those who asked for it")

	msg, err := t.newsletterMessage(ctx, "c-1001")
	if err != nil {
		return err
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	lu := parsed.Header.Get("List-Unsubscribe")
	link, ok := strings.CutPrefix(lu, "<")
	link, _, ok2 := strings.Cut(link, ">")
	if !ok || !ok2 {
		return offPath("no link in List-Unsubscribe")
	}
	t.say("The message to c-1001 carries, among its headers:")
	t.say("  List-Unsubscribe: <%s/consent/unsubscribe/%s>", "http://127.0.0.1:…", "(token, no personal data)")
	t.say("  List-Unsubscribe-Post: %s", parsed.Header.Get("List-Unsubscribe-Post"))

	res, err := http.Get(link)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	d, err := t.decide(ctx, "c-1001", "newsletter")
	if err != nil {
		return err
	}
	t.say("A mail scanner fetches the link: %s; c-1001 still subscribed: %s", res.Status, yesNo(d.Allowed))
	t.check(res.StatusCode == http.StatusOK && d.Allowed, "fetching the link (GET) changes nothing")

	res, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		return err
	}
	res.Body.Close()
	d, err = t.decide(ctx, "c-1001", "newsletter")
	if err != nil {
		return err
	}
	hist, err := t.ledger.History(ctx, "c-1001")
	if err != nil {
		return err
	}
	last := hist[len(hist)-1]
	t.say("c-1001 presses Unsubscribe in her mail program: POST → %s; subscribed: %s (%s, by %s)", res.Status, yesNo(d.Allowed), d.Reason, last.Method)
	t.check(res.StatusCode == http.StatusNoContent && !d.Allowed && d.Reason == consent.ReasonWithdrawn && last.Method == consent.MethodEmailLink,
		"one click unsubscribes at once, no log-in needed (001, 002, RFC 8058)")
	list, err = t.mailingList(ctx, "newsletter")
	if err != nil {
		return err
	}
	t.say("Next month's list: %s", strings.Join(list, ", "))
	t.check(slices.Equal(list, []string{"c-1003"}), "the unsubscribed address is off the next mailing")

	all, err := t.mailingList(ctx, "service-announcements")
	if err != nil {
		return err
	}
	t.say("Maintenance on Saturday night: the announcement goes to %s.", strings.Join(all, ", "))
	_, herr := t.web.Load().MessageHeader("c-1002", "service-announcements")
	t.say("It has no unsubscribe link:")
	t.say("  %v", herr)
	switchable, fixed, err := t.preferencePage("c-1002")
	if err != nil {
		return err
	}
	t.say("His preference centre (in Dutch, as his browser asks) offers to switch: %s;", strings.Join(switchable, "; "))
	t.say("and says of what it does not offer:")
	for _, l := range fixed {
		t.say("  %s", l)
	}
	_, err = t.ledger.Record(ctx, consent.Change{Type: consent.EventWithdraw, Subject: "c-1002", Purpose: "service-announcements",
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	t.say("c-1002 tries to opt out of announcements anyway. Refused:")
	t.say("  %v", err)
	t.check(len(all) == 3 && errors.Is(herr, consent.ErrWithdrawalRefused) && errors.Is(err, consent.ErrWithdrawalRefused) &&
		len(switchable) == 2 && len(fixed) == 1 && strings.Contains(fixed[0], "niet uitzetten"),
		"service announcements reach every customer and cannot be switched off, with the reason said (002)")
	return nil
}

// preferencePage opens a customer's preference centre through its link, as
// the customer's browser would, and returns the purposes it offers to switch
// and what it says about the others.
func (t *tour) preferencePage(id personaldata.SubjectID) (switchable, fixed []string, err error) {
	link, err := t.web.Load().PreferencesURL(id)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept-Language", "nl-NL,nl;q=0.9,en;q=0.5")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	text := func(line string) string { return html.UnescapeString(tagRx.ReplaceAllString(line, "")) }
	for line := range strings.Lines(string(body)) {
		switch line = strings.TrimSpace(line); {
		case strings.HasPrefix(line, "<label"):
			switchable = append(switchable, text(line))
		case strings.HasPrefix(line, "<li><strong>"):
			fixed = append(fixed, text(line))
		}
	}
	return switchable, fixed, nil
}

var tagRx = regexp.MustCompile(`<[^>]*>`)

// mailingList returns the customers the ledger allows purpose for, now.
func (t *tour) mailingList(ctx context.Context, purpose consent.PurposeID) ([]string, error) {
	cs, err := t.data.customers(ctx)
	if err != nil {
		return nil, err
	}
	ids := func(yield func(personaldata.SubjectID) bool) {
		for _, c := range cs {
			if !yield(personaldata.SubjectID(c.ID)) {
				return
			}
		}
	}
	var out []string
	for s, err := range t.ledger.Filter(ctx, purpose, ids, t.clk.Now()) {
		if err != nil {
			return nil, err
		}
		out = append(out, string(s))
	}
	return out, nil
}

// newsletterMessage writes the newsletter to one customer as it goes out, with
// the unsubscribe headers of the consent handler.
func (t *tour) newsletterMessage(ctx context.Context, id personaldata.SubjectID) ([]byte, error) {
	c, err := t.data.customer(ctx, string(id))
	if err != nil {
		return nil, err
	}
	if err := t.protector.Reveal(ctx, c); err != nil {
		return nil, err
	}
	hdr, err := t.web.Load().MessageHeader(id, "newsletter")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Example Mail <news@mail.example.nl>\r\nTo: %s\r\nSubject: Nieuwsbrief februari\r\n", c.Email)
	for _, k := range []string{"List-Unsubscribe", "List-Unsubscribe-Post"} {
		fmt.Fprintf(&b, "%s: %s\r\n", k, hdr.Get(k))
	}
	b.WriteString("\r\nBeste " + c.Name + ", ...\r\n")
	return b.Bytes(), nil
}
