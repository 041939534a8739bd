package pii_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/pii"
)

// Every seal has a nonce of its own: across the fields of one struct,
// across the elements of a slice, across calls and with nested structs.
func TestNoncesNeverRepeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []pii.Algorithm{pii.AES256GCM, pii.XChaCha20Poly1305} {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			p, _ := newProtector(t, &pii.Options{Algorithm: alg})
			ns := 12
			if alg == pii.XChaCha20Poly1305 {
				ns = 24
			}
			seen := map[string]string{}
			recordBin := func(where string, bin []byte) {
				t.Helper()
				nonce := string(bin[4 : 4+ns])
				if prev, ok := seen[nonce]; ok {
					t.Fatalf("%s and %s share a nonce", prev, where)
				}
				seen[nonce] = where
			}
			record := func(where, text string) {
				t.Helper()
				bin, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(text, "pd1:"))
				require.NoError(t, err)
				recordBin(where, bin)
			}
			recs := make([]benchRecord, 300)
			for i := range recs {
				recs[i] = benchPlain
				recs[i].ID = fmt.Sprint("s", i%7)
			}
			require.NoError(t, p.Protect(ctx, recs))
			for range 300 {
				one := benchPlain
				require.NoError(t, p.Protect(ctx, &one))
				recs = append(recs, one)
			}
			for i, r := range recs {
				for j, f := range []string{r.Email, r.Name, r.Phone, r.Address} {
					record(fmt.Sprintf("record %d field %d", i, j), f)
				}
			}
			c := sampleCustomer()
			require.NoError(t, p.Protect(ctx, &c))
			record("customer email", string(c.Email))
			record("customer name", c.Name)
			record("customer nickname", *c.Nickname)
			recordBin("customer photo", c.Photo)
			recordBin("customer signature", *c.Signature)
			record("customer phone 0", c.Phones[0])
			record("customer phone 2", c.Phones[2])
			record("customer home", c.Home.Street)
			record("customer previous", c.Previous[0].Street)
			record("customer note", c.Notes["old"].Street)
			for i, inv := range c.Invoices {
				record(fmt.Sprint("invoice ", i), inv.IBAN)
			}
		})
	}
}
