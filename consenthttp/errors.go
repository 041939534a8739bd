package consenthttp

import "errors"

// Errors returned by this package. They are wrapped with an operation prefix
// and more detail; check them with [errors.Is]. No error of this package
// contains a token, a key or personal data. Errors of the consent ledger
// (such as consent.ErrUnknownPurpose and consent.ErrWithdrawalRefused) are
// passed on wrapped, so they can be tested with errors.Is too.
//
// Requests get an HTTP status and a short message in plain words instead of
// an error; see the package documentation.
var (
	// ErrInvalidKey reports a [Key] that cannot be used: a secret shorter
	// than [MinSecretLen] bytes, or two keys with the same ID.
	ErrInvalidKey = errors.New("consenthttp: invalid key")
	// ErrInvalidToken reports a link token that is malformed, too long,
	// altered, made with an unknown key, or made for another use.
	ErrInvalidToken = errors.New("consenthttp: invalid link token")
	// ErrExpiredToken reports an authentic link token past its expiry, or
	// made with a key retired for longer than the link lifetime.
	ErrExpiredToken = errors.New("consenthttp: link token expired")
	// ErrNotIdentified is returned by an [Identifier] when a request does
	// not say who makes it.
	ErrNotIdentified = errors.New("consenthttp: person not identified")
	// ErrNoBaseURL reports a call that builds a link on a [Handler] whose
	// Options have no BaseURL.
	ErrNoBaseURL = errors.New("consenthttp: no base URL")
	// ErrInvalidOptions reports Options that cannot work, such as a BaseURL
	// that is not an absolute https URL or an unsupported language.
	ErrInvalidOptions = errors.New("consenthttp: invalid options")
)
