package main

import (
	"fmt"
	"time"

	"github.com/personaldata/personaldata"
)

// Customer is a row of the provider's customers table. The pii tags say
// which columns are personal data and whose; Protect encrypts them under the
// customer's own key before the row is written, and fills EmailIndex with a
// blind index so that a customer can log in by e-mail address without
// anything being decrypted.
type Customer struct {
	ID          string    `json:"id" pii:"subject"`
	Email       string    `json:"email" pii:"email,index=EmailIndex,normalize=email"`
	EmailIndex  string    `json:"-"`
	Name        string    `json:"name" pii:"name,redact=(erased)"`
	Address     string    `json:"address" pii:"address,redact=(erased)"`
	SignupIP    string    `json:"signup_ip" pii:"ip-address"`
	Plan        string    `json:"plan"`
	Testimonial string    `json:"testimonial,omitempty" pii:"testimonial"`
	Published   bool      `json:"testimonial_published"`
	Created     time.Time `json:"created"`
	Closed      time.Time `json:"closed,omitzero"`
}

// Invoice is an invoice as the customer sees it in an access export. In the
// database its BillTo is sealed under a key scope of its own fiscal year
// (fiscalScope), so that the invoices of one year are erased when their
// retention ends, not when the last invoice of the customer's may go.
type Invoice struct {
	Number   string    `json:"number"`
	Issued   time.Time `json:"issued"`
	BillTo   string    `json:"bill_to"`
	AmountCt int64     `json:"amount_cents"`
}

// billingCategory is the category invoice data is sealed under, and the one
// the retention policy keeps it by.
const billingCategory personaldata.Category = "billing"

// fiscalScope is the key scope of the invoices of t's fiscal year.
func fiscalScope(t time.Time) personaldata.Scope {
	return personaldata.Scope(fmt.Sprintf("fiscal-%d", t.Year()))
}
