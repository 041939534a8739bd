// Command preferencecentre serves the consent pages of a small mail service
// on localhost: a preference centre and one-click unsubscribe links for a
// few demo customers, over a consent ledger in memory.
//
// By default it sets everything up, unsubscribes one demo customer the way a
// mail provider's button does (an RFC 8058 POST), prints what happened and
// the links it would serve, and exits:
//
//	go run ./examples/preferencecentre
//
// With -serve it serves the pages until interrupted, and prints the links
// to open in a browser:
//
//	go run ./examples/preferencecentre -serve [-addr 127.0.0.1:8080]
//
// The links are made with a secret drawn at start, so they work only while
// the program runs.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "preferencecentre:", err)
		os.Exit(1)
	}
}

// purposes of the demo service, in the words of its privacy statement.
var purposes = []consent.Purpose{
	{ID: "newsletter", Description: "Monthly newsletter", Basis: personaldata.Consent, DirectMarketing: true},
	{ID: "product-tips", Description: "Tips about the products you use", Basis: personaldata.LegitimateInterests},
	{ID: "testimonials", Description: "Publishing your testimonial", Basis: personaldata.Consent},
	{ID: "service-announcements", Description: "Service announcements", Basis: personaldata.Contract},
	{ID: "invoices", Description: "Invoices", Basis: personaldata.LegalObligation},
}

type text struct{ name, desc string }

var words = map[string]map[consent.PurposeID]text{
	"en": {
		"newsletter":            {"Monthly newsletter", "News about our services, once a month."},
		"product-tips":          {"Tips about the products you use", "Now and then, how to get more out of your mailbox and hosting."},
		"testimonials":          {"Publishing your testimonial", "We may show what you wrote about us on our website."},
		"service-announcements": {"Service announcements", "Messages about maintenance and outages of the service you use."},
		"invoices":              {"Invoices", "Your invoices, which the tax authority requires us to keep for seven years."},
	},
	"nl": {
		"newsletter":            {"Maandelijkse nieuwsbrief", "Nieuws over onze diensten, eens per maand."},
		"product-tips":          {"Tips over de producten die u gebruikt", "Af en toe: hoe u meer uit uw mailbox en hosting haalt."},
		"testimonials":          {"Uw testimonial publiceren", "Wij mogen laten zien wat u over ons schreef op onze website."},
		"service-announcements": {"Servicemeldingen", "Berichten over onderhoud en storingen van de dienst die u gebruikt."},
		"invoices":              {"Facturen", "Uw facturen, die wij van de Belastingdienst zeven jaar moeten bewaren."},
	},
}

func describe(p consent.Purpose, lang string) (string, string) {
	if t, ok := words[lang][p.ID]; ok {
		return t.name, t.desc
	}
	return p.Description, ""
}

// demo customers and what they chose before.
var customers = []struct {
	id     personaldata.SubjectID
	grants []consent.PurposeID
}{
	{"demo-anna", []consent.PurposeID{"newsletter", "testimonials"}},
	{"demo-bram", []consent.PurposeID{"newsletter"}},
	{"demo-chris", nil},
}

// run sets up the demo and, with -serve, serves it until ctx is done. If
// ready is not nil it receives the base URL once the server listens.
func run(ctx context.Context, args []string, out io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("preferencecentre", flag.ContinueOnError)
	fs.SetOutput(out)
	serve := fs.Bool("serve", false, "serve the pages until interrupted (default: print the links and exit)")
	addr := fs.String("addr", "127.0.0.1:8080", "address to serve on, with -serve; a loopback address")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var ln net.Listener
	base := "http://" + *addr + "/consent/"
	if *serve {
		var err error
		if ln, err = net.Listen("tcp", *addr); err != nil {
			return err
		}
		defer ln.Close()
		base = "http://" + ln.Addr().String() + "/consent/"
	}

	ledger, h, err := setup(ctx, base)
	if err != nil {
		return err
	}

	if !*serve {
		if err := oneClick(ctx, ledger, h, out); err != nil {
			return err
		}
	}
	if err := printLinks(h, strings.TrimSuffix(base, "consent/"), out); err != nil {
		return err
	}
	if !*serve {
		fmt.Fprintln(out, "\nRun with -serve to open these pages in a browser.")
		return nil
	}

	mux := http.NewServeMux()
	mux.Handle("/consent/", h)
	mux.HandleFunc("GET /signin/{subject}", signIn)
	srv := &http.Server{Handler: h.PrivacySignal(mux), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(out, "\nServing on %s; press Ctrl-C to stop.\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- base
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// setup makes the ledger with the demo customers' earlier choices, and the
// Handler.
func setup(ctx context.Context, base string) (*consent.Ledger, *consenthttp.Handler, error) {
	now := time.Now().UTC()
	ps := make([]consent.Purpose, len(purposes))
	ids := make([]consent.PurposeID, len(purposes))
	for i, p := range purposes {
		p.Since = now.AddDate(-1, 0, 0)
		ps[i], ids[i] = p, p.ID
	}
	ledger, err := consent.New(ctx, consent.NewMemoryStore(), &consent.Options{
		Purposes: ps,
		Notices: []consent.Notice{{
			Version: "2026-01", URL: "https://example.nl/privacy/2026-01", Language: "nl",
			ContentHash: sha256.Sum256([]byte("Privacyverklaring Example Mail, versie 2026-01")),
			AnnouncedAt: now.AddDate(0, -2, 0), EffectiveAt: now.AddDate(0, -1, 0),
			Purposes: ids,
		}},
	})
	if err != nil {
		return nil, nil, err
	}
	for _, c := range customers {
		for _, p := range c.grants {
			if _, err := ledger.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: c.id, Purpose: p,
				EffectiveAt: now.AddDate(0, 0, -7), Method: consent.MethodForm, Actor: consent.ActorSubject}); err != nil {
				return nil, nil, err
			}
		}
	}
	// A real host keeps this secret in its secret store, and keeps it.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, nil, err
	}
	h, err := consenthttp.New(ledger, []consenthttp.Key{{ID: 1, Secret: secret}}, &consenthttp.Options{
		BaseURL:  base,
		Service:  "Example Mail",
		Describe: describe,
		Identify: consenthttp.IdentifierFunc(session),
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	return ledger, h, err
}

// oneClick unsubscribes demo-bram from the newsletter as a mail provider's
// unsubscribe button does, in process, and prints the decisions.
func oneClick(ctx context.Context, ledger *consent.Ledger, h *consenthttp.Handler, out io.Writer) error {
	hdr, err := h.MessageHeader("demo-bram", "newsletter")
	if err != nil {
		return err
	}
	link := strings.Trim(hdr.Get("List-Unsubscribe"), "<>")
	fmt.Fprintln(out, "A newsletter to demo-bram carries:")
	fmt.Fprintln(out, "  List-Unsubscribe: <"+link[:strings.LastIndex(link, "/")+1]+"…>")
	fmt.Fprintln(out, "  List-Unsubscribe-Post:", hdr.Get("List-Unsubscribe-Post"))

	decide := func() string {
		d, err := ledger.Decide(ctx, "demo-bram", "newsletter", time.Now())
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("allowed=%v (%s)", d.Allowed, d.Reason)
	}
	fmt.Fprintln(out, "Newsletter for demo-bram before:", decide())
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, link, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	fmt.Fprintln(out, "The mail provider POSTs List-Unsubscribe=One-Click:", rec.Code)
	fmt.Fprintln(out, "Newsletter for demo-bram after: ", decide())
	return nil
}

// printLinks prints the demo customers' links; site is the root URL.
func printLinks(h *consenthttp.Handler, site string, out io.Writer) error {
	fmt.Fprintln(out, "\nLinks (valid while this program runs):")
	for _, c := range customers {
		prefs, err := h.PreferencesURL(c.id)
		if err != nil {
			return err
		}
		unsub, err := h.UnsubscribeURL(c.id, "newsletter")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\n%s\n  preferences: %s\n  unsubscribe: %s\n", c.id, prefs, unsub)
	}
	fmt.Fprintf(out, "\nOr sign in as a demo customer (a session cookie) and open the preference centre:\n  %ssignin/demo-anna\n", site)
	fmt.Fprintln(out, "A browser that sends Sec-GPC: 1 then has its privacy signal recorded for product tips.")
	fmt.Fprintln(out, "\nAdd ?lang=nl or ?lang=en to choose the language. To unsubscribe as a mail provider does:")
	fmt.Fprintln(out, "  curl -i -d List-Unsubscribe=One-Click <unsubscribe link>")
	return nil
}

// The demo's sessions: a cookie that names a demo customer. A real host
// uses its own sign-in; this one trusts the cookie, which is fine only for
// a demo on localhost.
const sessionCookie = "demo-session"

func session(r *http.Request) (personaldata.SubjectID, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", consenthttp.ErrNotIdentified
	}
	for _, cu := range customers {
		if string(cu.id) == c.Value {
			return cu.id, nil
		}
	}
	return "", consenthttp.ErrNotIdentified
}

func signIn(w http.ResponseWriter, r *http.Request) {
	s := r.PathValue("subject")
	known := false
	for _, cu := range customers {
		known = known || string(cu.id) == s
	}
	if !known {
		http.NotFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/consent/preferences", http.StatusSeeOther)
}
