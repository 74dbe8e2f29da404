// Package analyzer asks AWS for a second opinion on a policy bucketguard is
// about to write: IAM Access Analyzer's custom policy check
// CheckNoPublicAccess, for the S3 resource types. bucketguard's own judge
// decides what to remove; where AWS says a rewritten document still grants
// public access, AWS wins (the planner fails closed). Where the check cannot
// be had (a partition or region without it, throttling, AccessDenied), the
// verdict says so, and the write goes ahead on bucketguard's judgement.
// https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_CheckNoPublicAccess.html
package analyzer

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"

	"github.com/bucketguard/bucketguard/remediations/awserr"
)

// CheckNoPublicAccessAPIClient is the one call the check makes.
type CheckNoPublicAccessAPIClient interface {
	CheckNoPublicAccess(context.Context, *accessanalyzer.CheckNoPublicAccessInput, ...func(*accessanalyzer.Options)) (*accessanalyzer.CheckNoPublicAccessOutput, error)
}

var _ CheckNoPublicAccessAPIClient = (*accessanalyzer.Client)(nil)

// ResourceType is the kind of resource a policy is checked as.
type ResourceType = types.AccessCheckResourceType

// The S3 resource types bucketguard writes policies for.
const (
	Bucket      ResourceType = types.AccessCheckResourceTypeS3Bucket
	AccessPoint ResourceType = types.AccessCheckResourceTypeS3AccessPoint
)

// Verdict is AWS's answer on one document.
type Verdict struct {
	// Public is true when AWS says the document grants public access.
	Public bool `json:"public"`
	// Reasons say why, each naming the statement when AWS does.
	Reasons []string `json:"reasons,omitempty"`
	// Unavailable says why AWS could not be asked; Public is then false
	// and means nothing.
	Unavailable string `json:"unavailable,omitempty"`
}

// Checked reports whether AWS answered.
func (v Verdict) Checked() bool { return v.Unavailable == "" }

// Check asks AWS whether doc, as a policy of the given resource type,
// grants public access. Errors are not returned: they make the verdict
// unavailable, with the reason.
func Check(ctx context.Context, c CheckNoPublicAccessAPIClient, doc string, rt ResourceType) Verdict {
	if c == nil {
		return Verdict{Unavailable: "no IAM Access Analyzer client"}
	}
	out, err := c.CheckNoPublicAccess(ctx, &accessanalyzer.CheckNoPublicAccessInput{PolicyDocument: aws.String(doc), ResourceType: rt})
	if err != nil {
		return Verdict{Unavailable: awserr.Describe(err)}
	}
	switch out.Result {
	case types.CheckNoPublicAccessResultPass:
		return Verdict{}
	case types.CheckNoPublicAccessResultFail:
		v := Verdict{Public: true}
		for _, r := range out.Reasons {
			where := ""
			switch {
			case r.StatementId != nil && *r.StatementId != "":
				where = fmt.Sprintf("statement %q: ", *r.StatementId)
			case r.StatementIndex != nil:
				where = fmt.Sprintf("statement %d: ", *r.StatementIndex)
			}
			v.Reasons = append(v.Reasons, where+strings.TrimSpace(aws.ToString(r.Description)))
		}
		if len(v.Reasons) == 0 {
			v.Reasons = []string{strings.TrimSpace(aws.ToString(out.Message))}
		}
		return v
	}
	return Verdict{Unavailable: fmt.Sprintf("IAM Access Analyzer answered %q", out.Result)}
}
