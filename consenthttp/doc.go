// Package consenthttp puts a [consent.Ledger] on the web: one-click
// unsubscribe links for every mailing (RFC 8058, RFC 2369), a preference
// centre where a person sees and changes what their data is used for, and
// middleware that honours the browser privacy signal (Global Privacy
// Control).
//
// A [Handler] serves all three and makes the links:
//
//	h, err := consenthttp.New(ledger, []consenthttp.Key{{ID: 1, Secret: secret}},
//		&consenthttp.Options{BaseURL: "https://example.nl/consent/", Service: "Example Mail"})
//	mux.Handle("/consent/", h)                   // mount at BaseURL's path, without StripPrefix
//	hdr, err := h.MessageHeader(subject, "newsletter") // List-Unsubscribe, List-Unsubscribe-Post
//	prefs, err := h.PreferencesURL(subject)      // a link for the footer of a message
//	site := h.PrivacySignal(mux)                 // Sec-GPC: 1 for a signed-in person
//
// # Unsubscribe links
//
// A GET of an unsubscribe link never changes anything, because mail scanners
// and link previews fetch links: it shows a page with the purpose's name and
// one button. A POST with the body List-Unsubscribe=One-Click (url-encoded or
// multipart/form-data, as RFC 8058 allows), which is what a mail provider's
// unsubscribe button sends, records a withdrawal (an objection for a purpose
// on legitimate interests or public task) by the subject, with method
// consent.MethodEmailLink and the notice version in force, and answers 204
// No Content without a page. It is idempotent: when the decision already
// rests on the subject's withdrawal, objection or erasure, nothing more is
// recorded. The confirmation page's button sends the same body and is
// answered with a redirect to the page, which then says the person is
// unsubscribed. With an Options.Identify the page links to the preference
// centre of the host's session; an unsubscribe token never opens the
// preference centre, so a forwarded message shows nobody the person's other
// choices.
//
// With Options.Mailbox, List-Unsubscribe also offers a mail to that address
// with the subject "unsubscribe <token>" (RFC 2369); the host's mail intake
// passes the token to [Handler.Withdraw], which records the same withdrawal.
//
// Links are made only for purposes a person can switch off: a purpose on
// contract, legal obligation or vital interests (service announcements: 002)
// has no unsubscribe link.
//
// # Preference centre
//
// The page lists the purposes the person can switch (consent, legitimate
// interests, public task), each a checkbox with its current state from
// [consent.Ledger.Decide] and, when it is off for a reason other than the
// person's choice, a note that says why; and the purposes they cannot
// switch, each with the reason in plain words. Saving records, for each
// purpose whose box differs from the decision, a grant or a withdrawal
// (objection) with method consent.MethodForm, the notice version that was in
// force when the page was shown, and as evidence the SHA-256 of the words of
// the form as shown (the title, introduction, legend, each purpose's name and
// description, and the button, in the language shown). If the notice version
// changed in between, nothing more is recorded and the page asks the person
// to look again (409). After saving, the browser is redirected to the page
// (303), which says the choices were saved.
//
// The person is identified by the token of a preference link
// (preferences/{token}) or, without one (preferences), by the host's
// [Identifier]. A token in the URL wins.
//
// The pages work without JavaScript and load nothing: one inline style
// allowed by its hash in a Content-Security-Policy that forbids everything
// else. They are written for keyboard and screen reader: a lang attribute,
// one h1, a fieldset with a legend around the choices, a label for every
// checkbox and its description tied to it with aria-describedby, the focus
// order of the text, a visible focus ring, messages in role="status" or
// role="alert". Every value shown is escaped by html/template.
//
// # Languages
//
// Pages are in English or Dutch: the query parameter lang=en or lang=nl
// decides, else the better of the two in Accept-Language, else
// Options.DefaultLanguage. Every page links to the other language, and forms
// carry the language, so a saved page answers in the language it was shown
// in. Options.Describe gives the names and descriptions of purposes in both.
//
// # Privacy signal
//
// [Handler.PrivacySignal] records Sec-GPC: 1 for the subject the host's
// Identifier names, with the ledger's own semantics: a signal is recorded
// with method consent.MethodPrivacySignal, only for purposes it would switch
// off (allowed by default, no choice made), and the ledger never lets it
// override an explicit choice. The preference centre records the signal too,
// when the host's session opens it with the signal; a page opened by a link
// token does not, since a mail scanner may have fetched it.
//
// # Link tokens
//
// A token is the last path segment of a link: unpadded base64url (RFC 4648
// §5) of
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       1       key ID (Key.ID)
//	2       24      nonce, random
//	26      n+16    XChaCha20-Poly1305 ciphertext and tag of the plaintext,
//	                with bytes 0-1 as additional data
//
// and the plaintext is
//
//	0       1       kind: 1 unsubscribe from one purpose, 2 preference centre
//	1       8       issued, Unix seconds, big-endian
//	9       8       expires, Unix seconds, big-endian
//	17      1       length p of the purpose ID (0 for kind 2)
//	18      p       purpose ID
//	18+p    rest    subject ID, 1 to 255 bytes
//
// so a token is 82 to 506 characters. The encryption key is derived from the
// Key's Secret with HKDF-SHA256 (info "personaldata consenthttp v1 link
// token").
//
// # Security
//
//   - A token carries no personal data in the clear: the subject ID, purpose
//     and times are encrypted. Links carry no e-mail address.
//   - A token cannot be forged or altered: the Poly1305 tag covers every
//     byte but the nonce, which is an input to it, and is checked in
//     constant time. A token of one kind does not work as the other: an
//     unsubscribe link does not open the preference centre.
//   - A token works for Options.LinkLifetime (365 days by default), and
//     after a key rotation (see [Key]) the old key's tokens keep working
//     until they expire.
//   - A token that is malformed, too long ([MaxTokenLen]), altered, or made
//     with an unknown key gets 404 and the same page whatever the reason, so
//     nothing can be learnt from the answer; an authentic but expired one
//     gets 410. Whether the ledger knows the subject changes nothing in the
//     answers: a subject without events is shown the same page.
//   - The preference form is protected against cross-site request forgery
//     twice: [net/http.CrossOriginProtection] refuses a POST that the browser
//     marks as cross-site (Sec-Fetch-Site, Origin), and a form token (an
//     HMAC-SHA256 with a key derived from the Key, compared in constant
//     time) binds the form to the subject, the time it was shown
//     (Options.FormLifetime, 2 hours by default) and its hidden fields. A
//     refused form gets 403 and the page again, with nothing changed.
//   - The one-click POST needs no form token: the link's token is the
//     authority, as RFC 8058 intends, and mail providers send it from
//     their servers.
//   - Request bodies are read up to [MaxBodyLen] bytes (413 beyond).
//   - Every response has Cache-Control: no-store, Referrer-Policy:
//     no-referrer (the URL holds a token), X-Frame-Options: DENY and
//     X-Content-Type-Options: nosniff.
//   - Only the person sees their choices: a page shows the state of the
//     subject the token or the session names, and nothing else.
//
// # Errors
//
// Methods return errors wrapping the sentinels of this package
// ([ErrInvalidKey], [ErrNoBaseURL], [ErrInvalidOptions], ...) or of the
// consent package (consent.ErrUnknownPurpose, consent.ErrWithdrawalRefused);
// test them with errors.Is. No error or log line contains a token, a key or
// personal data; subject and purpose IDs are pseudonymous and may appear in
// log lines.
//
// Requests are answered with a status and a short message in the person's
// language, never a panic, and never a change for anyone but the subject
// the token or session names:
//
//	400  a body that does not parse, a one-click POST without
//	     List-Unsubscribe=One-Click, a box ticked for a purpose not shown
//	403  no identity (no token, no session), a cross-site or forged form, a
//	     form token of another subject or past its lifetime, a withdrawal the
//	     ledger refuses
//	404  an unknown path, a token that is not valid, a purpose the ledger
//	     does not know
//	405  a method other than GET, HEAD and POST
//	409  a saved page whose notice version changed while it was open, or
//	     whose subject was erased (a one-click POST for an erased subject is
//	     answered 204: nothing is sent to them any more)
//	410  an expired link
//	413  a body over MaxBodyLen
//	500  the ledger or the Identifier failed (logged to Options.Logger)
//
// # Concurrency
//
// A Handler is safe for concurrent use. Within one Handler, changes of one
// subject (an unsubscribe, a saved page, a privacy signal) are serialised, so
// two clicks record one withdrawal; the ledger serialises writes per subject
// across Handlers. Key, Options and the Identifier are the host's; New copies
// Key and Options.
package consenthttp
