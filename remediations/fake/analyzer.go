package fake

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"

	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
)

// Analyzer is a fake of IAM Access Analyzer's CheckNoPublicAccess. It
// answers with bucketguard's own judge (AWS and bucketguard agree), unless
// the Fake's Verdict says otherwise. Its calls count as
// access-analyzer:CheckNoPublicAccess, and Fault applies.
type Analyzer struct{ f *Fake }

// Analyzer returns the account's IAM Access Analyzer.
func (f *Fake) Analyzer() *Analyzer { return &Analyzer{f} }

// CheckNoPublicAccess judges the document.
func (a *Analyzer) CheckNoPublicAccess(_ context.Context, in *accessanalyzer.CheckNoPublicAccessInput, _ ...func(*accessanalyzer.Options)) (*accessanalyzer.CheckNoPublicAccessOutput, error) {
	release, err := a.f.enter(op.CheckNoPublicAccess, "")
	if err != nil {
		return nil, err
	}
	defer release()
	doc := aws.ToString(in.PolicyDocument)
	if v := a.f.Verdict; v != nil {
		if reasons := v(doc, string(in.ResourceType)); len(reasons) > 0 {
			out := &accessanalyzer.CheckNoPublicAccessOutput{Result: types.CheckNoPublicAccessResultFail, Message: aws.String("The resource policy grants public access for the access type.")}
			for _, r := range reasons {
				out.Reasons = append(out.Reasons, types.ReasonSummary{Description: aws.String(r)})
			}
			return out, nil
		}
		return &accessanalyzer.CheckNoPublicAccessOutput{Result: types.CheckNoPublicAccessResultPass}, nil
	}
	d, err := policy.Parse([]byte(doc))
	if err != nil {
		return nil, APIError("ValidationException", fmt.Sprintf("invalid policy: %v", err))
	}
	if in.ResourceType == types.AccessCheckResourceTypeS3AccessPoint {
		d = d.ForAccessPoint()
	}
	if r := policy.Judge(d); r.Public {
		return &accessanalyzer.CheckNoPublicAccessOutput{Result: types.CheckNoPublicAccessResultFail,
			Reasons: []types.ReasonSummary{{Description: aws.String("the policy grants public access")}}}, nil
	}
	return &accessanalyzer.CheckNoPublicAccessOutput{Result: types.CheckNoPublicAccessResultPass}, nil
}
