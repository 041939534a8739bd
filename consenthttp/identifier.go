package consenthttp

import (
	"net/http"

	"github.com/personaldata/personaldata"
)

// An Identifier tells who makes a request, from the host's own session: a
// cookie, a signed-in account. The [Handler] asks it when a request carries
// no link token; [Handler.PrivacySignal] asks it on every request with a
// privacy signal.
//
// Identify returns the subject the request is made by, or an error wrapping
// [ErrNotIdentified] when the request does not say (no session, a session
// that expired). Any other error is treated as a failure of the host: the
// request gets status 500 and nothing is changed. Identify must not write to
// the response, must be safe for concurrent use, and must be cheap: it runs
// on every request that [Handler.PrivacySignal] wraps and has the header.
//
// The Handler does not serialise calls to Identify.
type Identifier interface {
	Identify(r *http.Request) (personaldata.SubjectID, error)
}

// IdentifierFunc adapts a function to an [Identifier].
type IdentifierFunc func(r *http.Request) (personaldata.SubjectID, error)

// Identify calls f(r).
func (f IdentifierFunc) Identify(r *http.Request) (personaldata.SubjectID, error) { return f(r) }
