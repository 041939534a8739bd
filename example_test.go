package personaldata_test

import (
	"fmt"

	"github.com/personaldata/personaldata"
)

func ExampleLegalBasis() {
	b, err := personaldata.ParseLegalBasis("legal-obligation")
	if err != nil {
		panic(err)
	}
	fmt.Println(b, "-", b.Article())
	// Output: legal-obligation - GDPR Art. 6(1)(c)
}

func ExampleSubjectID_Validate() {
	fmt.Println(personaldata.SubjectID("customer-1017").Validate())
	fmt.Println(personaldata.SubjectID("").Validate())
	// Output:
	// <nil>
	// personaldata: invalid subject ID: empty
}
