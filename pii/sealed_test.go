package pii_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/pii"
)

func TestSealedSetToZeroIsSealed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _ := newProtector(t, nil)
	type rec struct {
		ID     string           `pii:"subject"`
		Agreed pii.Sealed[bool] `pii:"consent"`
		Count  pii.Sealed[int]  `pii:"count"`
		Never  pii.Sealed[bool] `pii:"consent"`
	}
	for _, agreed := range []bool{false, true} {
		r := rec{ID: "s", Agreed: pii.Plain(agreed)}
		r.Count.Set(0)
		require.NoError(t, p.Protect(ctx, &r))
		assert.True(t, r.Agreed.IsSealed(), "Sealed[bool] %v", agreed)
		assert.True(t, r.Count.IsSealed(), "Sealed[int] 0")
		assert.False(t, r.Never.IsSealed(), "a Sealed never set stays empty")
		assert.True(t, r.Never.IsEmpty())
		assert.False(t, r.Agreed.IsEmpty())
		js, err := json.Marshal(r)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(js, &m))
		assert.NotNil(t, m["Agreed"], "a set false is stored as ciphertext, not null")
		assert.Nil(t, m["Never"])

		var back rec
		require.NoError(t, json.Unmarshal(js, &back))
		require.NoError(t, p.Reveal(ctx, &back))
		got, err := back.Agreed.Get()
		require.NoError(t, err)
		assert.Equal(t, agreed, got)
		assert.False(t, back.Agreed.IsEmpty(), "a revealed zero value is not empty")
		assert.True(t, back.Never.IsEmpty())
	}
	var plainZero pii.Sealed[bool]
	plainZero.Set(false)
	_, err := json.Marshal(plainZero)
	assert.Error(t, err, "a plain zero value refuses to be written out")
}

func TestSealedErrorsHoldNoPlaintext(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _ := newProtector(t, nil)

	t.Run("RevealIntoAnotherType", func(t *testing.T) {
		type asString struct {
			ID string             `pii:"subject"`
			V  pii.Sealed[string] `pii:"note"`
		}
		type asTime struct {
			ID string                `pii:"subject"`
			V  pii.Sealed[time.Time] `pii:"note"`
		}
		src := asString{ID: "s", V: pii.Plain("jan.secret@example.org")}
		require.NoError(t, p.Protect(ctx, &src))
		js, err := json.Marshal(src)
		require.NoError(t, err)
		var dst asTime
		require.NoError(t, json.Unmarshal(js, &dst))
		err = p.Reveal(ctx, &dst)
		require.ErrorIs(t, err, pii.ErrMalformed)
		assert.NotContains(t, err.Error(), "secret")
	})
	t.Run("RevealIntoNarrowerInt", func(t *testing.T) {
		type wide struct {
			ID string          `pii:"subject"`
			V  pii.Sealed[int] `pii:"count"`
		}
		type narrow struct {
			ID string           `pii:"subject"`
			V  pii.Sealed[int8] `pii:"count"`
		}
		src := wide{ID: "s", V: pii.Plain(987654)}
		require.NoError(t, p.Protect(ctx, &src))
		js, err := json.Marshal(src)
		require.NoError(t, err)
		var dst narrow
		require.NoError(t, json.Unmarshal(js, &dst))
		err = p.Reveal(ctx, &dst)
		require.ErrorIs(t, err, pii.ErrMalformed)
		assert.NotContains(t, err.Error(), "987654")
	})
	t.Run("ProtectInvalidNumber", func(t *testing.T) {
		type rec struct {
			ID string                  `pii:"subject"`
			V  pii.Sealed[json.Number] `pii:"note"`
		}
		r := rec{ID: "s", V: pii.Plain(json.Number("secret-number"))}
		err := p.Protect(ctx, &r)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "secret")
	})
	t.Run("ProtectInvalidRawMessage", func(t *testing.T) {
		type rec struct {
			ID string                      `pii:"subject"`
			V  pii.Sealed[json.RawMessage] `pii:"note"`
		}
		r := rec{ID: "s", V: pii.Plain(json.RawMessage(`{"secret": Zz}`))}
		err := p.Protect(ctx, &r)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "secret")
		assert.NotContains(t, err.Error(), "'Z'", "not even one character of it")
	})
}
