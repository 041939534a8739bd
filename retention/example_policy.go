package retention

import "github.com/personaldata/personaldata"

// ExamplePolicySpec returns an example policy, modelled on the privacy
// statements of a small Dutch mail and hosting provider. It shows how the
// promises of such a statement become rules; it is not legal advice, and a
// host must write its own policy from its own statement.
//
//   - "account": account data is kept while the account exists and deleted
//     30 days after the account is closed.
//   - "account-inactive": an account inactive for 24 months is reviewed.
//   - "invoices": billing data is kept for 7 years after the end of the
//     fiscal year, as Dutch tax law requires (AWR art. 52 lid 4).
//   - "registration-ip": the IP address of a registration (kind
//     "registration") is kept for 1 year to investigate fraud and abuse and
//     to answer lawful requests of the authorities. No Dutch law requires
//     a provider to keep it (the Dutch data retention act was struck down
//     in 2015), so the basis is the provider's legitimate interests and an
//     erasure request ends it early; a provider bound by a retention law,
//     as French providers are, would write a legal-obligation rule citing
//     that law.
//   - "contact": contact messages are archived for 2 years.
//   - "mail-log": spam-filter logs are deleted after 30 days.
//   - "erasure": after an erasure request, data that no law requires to
//     be kept is deleted within 30 days.
func ExamplePolicySpec() PolicySpec {
	return PolicySpec{
		Name: "example-mail-and-hosting",
		Rules: []Rule{
			{
				ID: "account", Category: "account", Trigger: TriggerAccountClosed,
				Period: Period{Days: 30}, Action: Delete, Basis: personaldata.Contract,
				Summary: "Account data is kept while your account exists and deleted 30 days after it is closed",
			},
			{
				ID: "account-inactive", Category: "account", Trigger: TriggerLastActivity,
				Period: Period{Months: 24}, Action: Review, Basis: personaldata.LegitimateInterests,
				Summary: "An account that has not been used for 24 months is reviewed for deletion",
			},
			{
				ID: "invoices", Category: "billing", Trigger: TriggerFiscalYearEnd,
				Period: Period{Years: 7}, Action: Delete, Basis: personaldata.LegalObligation,
				Citation: "AWR art. 52 lid 4",
				Summary:  "Invoices and payment data are kept for 7 years after the end of the fiscal year, as Dutch tax law requires",
			},
			{
				ID: "registration-ip", Category: "ip-address", Kind: "registration", Trigger: TriggerCollected,
				Period: Period{Years: 1}, Action: Delete, Retain: true, Basis: personaldata.LegitimateInterests,
				Citation: "GDPR Art. 6(1)(f)",
				Summary:  "The IP address a registration was made from is kept for 1 year to investigate fraud and abuse and to answer lawful requests of the authorities",
			},
			{
				ID: "contact", Category: "contact", Trigger: TriggerCollected,
				Period: Period{Years: 2}, Action: Delete, Retain: true, Basis: personaldata.LegitimateInterests,
				Summary: "Messages you send us are archived for 2 years so that we can help you well later",
			},
			{
				ID: "mail-log", Category: "mail-log", Trigger: TriggerCollected,
				Period: Period{Days: 30}, Action: Delete, Basis: personaldata.LegitimateInterests,
				Summary: "Spam-filter logs are deleted after 30 days",
			},
			{
				ID: "erasure", Trigger: TriggerErasureRequested,
				Period: Period{Days: 30}, Action: Delete, Basis: personaldata.LegitimateInterests,
				Citation: "GDPR Art. 12(3), 17",
				Summary:  "When you ask us to erase your data, data that no law requires us to keep is deleted within 30 days",
			},
		},
	}
}

// ExamplePolicy returns [ExamplePolicySpec] as a [Policy].
func ExamplePolicy() *Policy {
	p, err := NewPolicy(ExamplePolicySpec())
	if err != nil {
		panic(err) // the example is valid; a test guards it
	}
	return p
}
