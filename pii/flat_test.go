package pii_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/pii"
)

type (
	flatScopes struct {
		ID      string `pii:"subject"`
		Email   string `pii:"email"`
		Invoice string `pii:"billing,scope=fiscal"`
		Name    string `pii:"name"`
		Note    string
		Phone   string `pii:"phone"`
	}
	flatWide struct {
		ID                     string `pii:"subject"`
		A, B, C, D, E, F, G, H string `pii:"name"`
		I                      string `pii:"address"`
	}
)

// A flat struct whose keys are cached is sealed without the general walk;
// it must give the same envelopes, and leave what it cannot do alone (a
// field protected already, a subject too long for its fields) to the walk.
func TestFlatStructWarmKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []pii.Algorithm{pii.AES256GCM, pii.XChaCha20Poly1305} {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			p, _ := newProtector(t, &pii.Options{Algorithm: alg})
			fields := func(r *flatScopes) []string { return []string{r.Email, r.Invoice, r.Name, r.Phone} }
			full := flatScopes{ID: "c-1", Email: "ann@example.nl", Invoice: "NL91ABNA0417164300", Name: "Ann", Note: "n", Phone: "+31 6 1"}
			warm := full
			require.NoError(t, p.Protect(ctx, &warm)) // creates and caches the keys

			tests := []struct {
				name string
				in   flatScopes
			}{
				{"every field", full},
				{"empty fields between", flatScopes{ID: "c-1", Invoice: "NL91ABNA0417164300", Phone: "+31 6 1"}},
				{"one field", flatScopes{ID: "c-1", Name: "A"}},
				{"no field", flatScopes{ID: "c-1", Note: "n"}},
				{"one field protected already", flatScopes{ID: "c-1", Email: warm.Email, Name: "Ann"}},
				{"subject of another record", flatScopes{ID: "c-2", Email: "bob@example.nl"}},
				{"long subject, short field", flatScopes{ID: strings.Repeat("s", 255), Name: "B"}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := tt.in
					require.NoError(t, p.Protect(ctx, &r))
					for i, s := range fields(&r) {
						if fields(&tt.in)[i] == "" {
							assert.Empty(t, s, "field %d", i)
							continue
						}
						assert.True(t, strings.HasPrefix(s, "pd1:"), "field %d left in plaintext", i)
					}
					if tt.in.Email == warm.Email {
						assert.Equal(t, warm.Email, r.Email, "a protected field is left as it is")
					}
					assert.Equal(t, tt.in.Note, r.Note)
					again := r
					require.NoError(t, p.Protect(ctx, &again), "protecting twice")
					assert.Equal(t, r, again)
					require.NoError(t, p.Reveal(ctx, &r))
					want := tt.in
					if want.Email == warm.Email {
						want.Email = full.Email
					}
					assert.Equal(t, want, r)
				})
			}
			t.Run("every length", func(t *testing.T) {
				for n := range 70 {
					in := flatScopes{ID: "c-1", Email: strings.Repeat("e", n), Invoice: strings.Repeat("i", 70-n), Name: strings.Repeat("n", n%5), Phone: "p"}
					r := in
					require.NoError(t, p.Protect(ctx, &r))
					require.NoError(t, p.Reveal(ctx, &r))
					require.Equal(t, in, r, "length %d", n)
				}
			})
			t.Run("no subject", func(t *testing.T) {
				r := flatScopes{Name: "Ann"}
				require.ErrorIs(t, p.Protect(ctx, &r), pii.ErrNoSubject)
				assert.Equal(t, "Ann", r.Name)
			})
			t.Run("more fields than the short path holds", func(t *testing.T) {
				in := flatWide{ID: "c-1", A: "a", B: "b", C: "c", D: "d", E: "e", F: "f", G: "g", H: "h", I: "i"}
				w := in
				require.NoError(t, p.Protect(ctx, &w))
				r := in
				require.NoError(t, p.Protect(ctx, &r))
				assert.True(t, strings.HasPrefix(r.I, "pd1:"))
				require.NoError(t, p.Reveal(ctx, &r))
				assert.Equal(t, in, r)
			})
			t.Run("concurrent", func(t *testing.T) {
				var wg sync.WaitGroup
				for range 4 {
					wg.Go(func() {
						for range 50 {
							r := full
							if err := p.Protect(ctx, &r); err != nil {
								t.Error(err)
								return
							}
							if err := p.Reveal(ctx, &r); err != nil || r != full {
								t.Errorf("round trip: %v", err)
								return
							}
						}
					})
				}
				wg.Wait()
			})
		})
	}
}
