package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRunPrintsAndExits(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, &out, nil); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Newsletter for demo-bram before: allowed=true (granted)",
		"The mail provider POSTs List-Unsubscribe=One-Click: 204",
		"Newsletter for demo-bram after:  allowed=false (withdrawn)",
		"preferences: http://127.0.0.1:8080/consent/preferences/",
		"Run with -serve",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestRunServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-serve", "-addr", "127.0.0.1:0"}, &out, ready) }()

	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("run returned before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start")
	}
	link := regexp.MustCompile(`preferences: (\S+)`).FindStringSubmatch(out.String())
	if link == nil || !strings.HasPrefix(link[1], base) {
		t.Fatalf("no preference link under %s in:\n%s", base, out.String())
	}
	res, err := http.Get(link[1] + "?lang=nl")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "Maandelijkse nieuwsbrief") {
		t.Fatalf("GET %s: %d\n%s", link[1], res.StatusCode, b)
	}

	// Signing in sets a session; the preference centre without a token
	// then shows that customer's page.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err = c.Get(base[:len(base)-len("consent/")] + "signin/demo-anna")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/consent/preferences" || !strings.Contains(string(b), `name="csrf"`) {
		t.Fatalf("sign in: %d %s\n%s", res.StatusCode, res.Request.URL, b)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
