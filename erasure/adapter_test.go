package erasure_test

import (
	"context"
	"errors"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
)

// shredder adapts *pii.Protector's Forget to erasure.KeyShredder, until
// the Protector has ForgetScopes and ForgetSubject of its own.
type shredder struct{ p *pii.Protector }

func (s shredder) ForgetScopes(ctx context.Context, subject personaldata.SubjectID, scopes ...personaldata.Scope) error {
	if len(scopes) == 0 {
		return errors.New("pii: ForgetScopes needs at least one scope")
	}
	return s.p.Forget(ctx, subject, scopes...)
}

func (s shredder) ForgetSubject(ctx context.Context, subject personaldata.SubjectID) error {
	return s.p.Forget(ctx, subject)
}
