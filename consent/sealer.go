package consent

import (
	"context"

	"github.com/personaldata/personaldata"
)

// Sealer seals the personal data events carry under the subject's key and
// opens it again. *pii.Protector implements it. Implementations must be safe
// for concurrent use. Open of an envelope whose key was shredded returns an
// error; the ledger passes it on wrapped, so callers can test it with
// errors.Is (for pii: pii.ErrErased).
type Sealer interface {
	Seal(ctx context.Context, subject personaldata.SubjectID, scope personaldata.Scope, category personaldata.Category, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, subject personaldata.SubjectID, scope personaldata.Scope, category personaldata.Category, envelope []byte) ([]byte, error)
}
