package consenthttp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzPreferencesForm posts arbitrary bodies to a person's preference
// centre. Nothing may panic, and nothing may be recorded unless the body
// carries the form token of that person's own page.
func FuzzPreferencesForm(f *testing.F) {
	fx := newFixture(f, nil)
	fx.grant("customer-1017", "newsletter")
	fx.grant("customer-2", "newsletter")
	path := fx.preferencesPath("customer-1017")
	req, _ := http.NewRequest(http.MethodGet, "https://example.nl"+path, nil)
	valid := formOf(f, body(f, fx.do(req)))
	f.Add(setOn(valid).Encode())
	f.Add("csrf=&lang=en")
	f.Fuzz(func(t *testing.T, form string) {
		fx.t = t
		before1, before2 := len(fx.history("customer-1017")), len(fx.history("customer-2"))
		req, _ := http.NewRequest(http.MethodPost, "https://example.nl"+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res := fx.do(req)
		if len(fx.history("customer-2")) != before2 {
			t.Fatal("a change was recorded for another subject")
		}
		if res.StatusCode == http.StatusSeeOther {
			if q, err := url.ParseQuery(form); err != nil || q.Get("csrf") != valid.Get("csrf") {
				t.Fatalf("saved without the page's form token: %q", form)
			}
			return
		}
		if n := len(fx.history("customer-1017")); n != before1 {
			t.Fatalf("status %d but %d events recorded", res.StatusCode, n-before1)
		}
	})
}
