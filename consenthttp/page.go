package consenthttp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// css is the only style of the pages, inline and allowed by its hash in the
// Content-Security-Policy; the pages load nothing and run no script.
const css = `body{font:1.05rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}
fieldset{border:1px solid #767676;border-radius:.3rem;padding:.5rem 1rem 1rem}
legend h2,h2{font-size:1.2rem;margin:.5rem 0}
.choice{margin:.8rem 0}
.choice input{width:1.2rem;height:1.2rem;vertical-align:middle;margin-right:.5rem}
.desc{margin:.2rem 0 0 1.9rem;color:#333}
.note{display:block;font-style:italic}
button{font:inherit;padding:.5rem 1.2rem;margin-top:1rem;border:2px solid #0b57d0;border-radius:.3rem;background:#0b57d0;color:#fff}
a{color:#0b57d0}
:focus-visible{outline:3px solid #b3261e;outline-offset:2px}
.status{border-left:4px solid #1e7b34;padding:.3rem .8rem;background:#eef7f0}
.alert{border-left:4px solid #b3261e;padding:.3rem .8rem;background:#fbeeee}
section{margin-top:2rem}
li{margin:.4rem 0}
footer{margin-top:2rem;font-size:.95rem}
footer ul{list-style:none;padding:0}
footer li{display:inline;margin-right:1rem}`

const pageHTML = `<!doctype html>
<html lang="{{.W.Code}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}{{with .Service}} – {{.}}{{end}}</title>
<style>` + css + `</style>
</head>
<body>
<main>
{{with .Service}}<p>{{.}}</p>{{end}}
<h1>{{.Title}}</h1>
{{with .Status}}<p class="status" role="status">{{.}}</p>{{end}}
{{with .Alert}}<p class="alert" role="alert">{{.}}</p>{{end}}
{{with .Prefs}}
<p>{{$.W.PrefIntro}}</p>
{{if .Switchable}}
<form method="post" action="{{$.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="lang" value="{{$.W.Code}}">
<input type="hidden" name="notice" value="{{.Notice}}">
<input type="hidden" name="evidence" value="{{.Evidence}}">
{{range .Switchable}}<input type="hidden" name="shown" value="{{.ID}}">
{{end}}<fieldset>
<legend><h2>{{$.W.Legend}}</h2></legend>
{{range .Switchable}}<div class="choice">
<input type="checkbox" id="p-{{.ID}}" name="on" value="{{.ID}}"{{if .On}} checked{{end}}{{if or .Description .Note}} aria-describedby="d-{{.ID}}"{{end}}>
<label for="p-{{.ID}}">{{.Name}}</label>
{{if or .Description .Note}}<p class="desc" id="d-{{.ID}}">{{.Description}}{{with .Note}} <span class="note">{{.}}</span>{{end}}</p>{{end}}
</div>
{{end}}</fieldset>
<button type="submit">{{$.W.Save}}</button>
</form>
{{end}}
{{if .Fixed}}
<section aria-labelledby="fixed">
<h2 id="fixed">{{$.W.FixedHeading}}</h2>
<p>{{$.W.FixedIntro}}</p>
<ul>
{{range .Fixed}}<li><strong>{{.Name}}</strong>: {{with .Description}}{{.}} {{end}}{{.Reason}}</li>
{{end}}</ul>
</section>
{{end}}
{{end}}
{{with .Unsub}}
{{if .Subscribed}}
<form method="post" action="{{$.Action}}">
<p>{{.Question}}</p>
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<input type="hidden" name="lang" value="{{$.W.Code}}">
<button type="submit" name="page" value="1">{{$.W.UnsubButton}}</button>
</form>
{{else}}
<p>{{.NotReceiving}}</p>
{{end}}
{{with .Manage}}<p><a href="{{.}}">{{$.W.ManageAll}}</a></p>{{end}}
{{end}}
</main>
<footer>
{{with .Statement}}<p><a href="{{.URL}}">{{.Text}}</a></p>{{end}}
{{with .Languages}}<nav aria-label="{{$.W.OtherLanguage}}"><ul>
{{range .}}<li><a href="{{.Href}}" hreflang="{{.Code}}" lang="{{.Code}}">{{.Name}}</a></li>
{{end}}</ul></nav>{{end}}
</footer>
</body>
</html>
`

var (
	pageTmpl = template.Must(template.New("page").Parse(pageHTML))
	cspValue = func() string {
		sum := sha256.Sum256([]byte(css))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	}()
)

// page is what the template shows.
type page struct {
	W         *words
	Service   string
	Title     string
	Status    string
	Alert     string
	Action    string // form action: the request's path, with the language
	Prefs     *prefsView
	Unsub     *unsubView
	Statement *link
	Languages []langLink
}

type link struct{ URL, Text string }

type langLink struct{ Code, Name, Href string }

// securityHeaders sets the headers of every response: no caching (pages
// and links are personal), no referrer (the URL holds a token), no framing,
// no script.
func securityHeaders(w http.ResponseWriter, lang string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", cspValue)
	if lang != "" {
		h.Set("Content-Language", lang)
	}
}

// render writes p with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, p *page) {
	p.Service = h.opts.Service
	// Forms and language links are query-only references: they resolve
	// to the page's own path, whatever it is.
	p.Action = "?" + url.Values{"lang": {p.W.Code}}.Encode()
	for _, o := range []*words{english, dutch} {
		if o != p.W {
			p.Languages = append(p.Languages, langLink{Code: o.Code, Name: o.Name, Href: "?" + url.Values{"lang": {o.Code}}.Encode()})
		}
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, p); err != nil {
		h.opts.Logger.Error("consenthttp: rendering a page", "err", err)
		h.plain(w, http.StatusInternalServerError, "", english.Failed)
		return
	}
	securityHeaders(w, p.W.Code)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// message shows a page with only a title and an alert.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, lang, title, text string) {
	h.render(w, r, status, &page{W: wordsFor(lang), Title: title, Alert: text})
}

// plain writes a short text answer, for requests that are not from a
// person's browser (a mail provider's one-click POST).
func (h *Handler) plain(w http.ResponseWriter, status int, lang, text string) {
	securityHeaders(w, lang)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text + "\n"))
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	lang := language(r, h.opts.DefaultLanguage)
	h.message(w, r, http.StatusNotFound, lang, wordsFor(lang).NotFound, wordsFor(lang).NotFound)
}

// selfURL is r's path with only the query parameter lang, plus saved=1 or
// done=1 when flag is set: where a change redirects to.
func selfURL(r *http.Request, lang string, flag bool) string {
	q := url.Values{"lang": {lang}}
	if flag {
		if strings.Contains(r.URL.Path, "/unsubscribe/") {
			q.Set("done", "1")
		} else {
			q.Set("saved", "1")
		}
	}
	p := r.URL.Path
	if strings.HasPrefix(p, "//") {
		p = "/." + p // never a reference to another host
	}
	return (&url.URL{Path: p, RawQuery: q.Encode()}).String()
}
