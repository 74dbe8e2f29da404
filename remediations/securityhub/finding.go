package securityhub

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// SchemaVersion is the ASFF version.
// https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html
const SchemaVersion = "2018-10-08"

// Types classify every finding, in the namespace/category/classifier form
// of the ASFF types taxonomy.
// https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-type-taxonomy.html
var Types = []string{
	"Software and Configuration Checks/AWS Security Best Practices/S3 Public Access",
	"Effects/Data Exposure/S3 Public Access",
}

// ASFF's own bounds on the text fields.
// https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-asff-mapping.html
const (
	maxTitle       = 256
	maxDescription = 1024
	maxNote        = 512
	maxRemediation = 512
)

// ProductARN is the account's own product, where a customer's own findings
// go: arn:<partition>:securityhub:<region>:<account>:product/<account>/default.
// https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-custom-providers.html
func ProductARN(partition, region, account string) string {
	return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, region, account, account)
}

// ID is a finding's deterministic Id: the same target and kind always give
// the same Id, so every import replaces the last.
func ID(r Record) string {
	return fmt.Sprintf("bucketguard/%s/%s/%s/%s", r.Target.Account, r.Target.Region, resourcePath(r), r.Kind)
}

// GeneratorID names the check: one per kind, matched by Security Hub
// exactly, never by prefix.
func GeneratorID(k Kind) string { return "bucketguard/" + string(k) }

func resourcePath(r Record) string {
	t := r.Target
	switch {
	case t.AccessPoint != nil:
		return string(t.AccessPoint.Kind) + "/" + t.AccessPoint.Name
	case r.AccessPoint != "":
		return t.Bucket + "/access-point/" + r.AccessPoint
	}
	return t.Bucket
}

// resource is the ASFF resource: AwsS3Bucket, AwsS3AccessPoint for a
// bucket's access point, Other for Object Lambda and Multi-Region Access
// Points (ASFF has no type of their own).
// https://docs.aws.amazon.com/securityhub/latest/userguide/asff-resources.html
func resource(r Record) types.Resource {
	t := r.Target
	p := t.Partition()
	res := types.Resource{Partition: types.Partition(p), Region: aws.String(t.Region)}
	switch {
	case t.AccessPoint != nil && t.AccessPoint.Kind == posture.ObjectLambdaAccessPoint:
		res.Type, res.Id = aws.String("Other"), aws.String(fmt.Sprintf("arn:%s:s3-object-lambda:%s:%s:accesspoint/%s", p, t.Region, t.Account, t.AccessPoint.Name))
	case t.AccessPoint != nil && t.AccessPoint.Kind == posture.MultiRegionAccessPoint:
		res.Type, res.Id = aws.String("Other"), aws.String(fmt.Sprintf("arn:%s:s3::%s:accesspoint/%s", p, t.Account, t.AccessPoint.Name))
	case t.AccessPoint != nil, r.AccessPoint != "":
		name := r.AccessPoint
		if t.AccessPoint != nil {
			name = t.AccessPoint.Name
		}
		res.Type, res.Id = aws.String("AwsS3AccessPoint"), aws.String(fmt.Sprintf("arn:%s:s3:%s:%s:accesspoint/%s", p, t.Region, t.Account, name))
		res.Details = &types.ResourceDetails{AwsS3AccessPoint: &types.AwsS3AccessPointDetails{Name: aws.String(name), Bucket: nonEmpty(t.Bucket)}}
	default:
		res.Type, res.Id = aws.String("AwsS3Bucket"), aws.String(fmt.Sprintf("arn:%s:s3:::%s", p, t.Bucket))
	}
	return res
}

// Compliance and workflow of each state. A fixed or clean exposure passes;
// an approved one is a warning, suppressed by the approval.
var lifecycle = map[State]struct {
	compliance types.ComplianceStatus
	workflow   types.WorkflowStatus
}{
	Public:   {types.ComplianceStatusFailed, types.WorkflowStatusNew},
	Expired:  {types.ComplianceStatusFailed, types.WorkflowStatusNew},
	Fixed:    {types.ComplianceStatusPassed, types.WorkflowStatusResolved},
	Clean:    {types.ComplianceStatusPassed, types.WorkflowStatusResolved},
	Approved: {types.ComplianceStatusWarning, types.WorkflowStatusSuppressed},
	Unjudged: {types.ComplianceStatusNotAvailable, types.WorkflowStatusNew},
	Gone:     {types.ComplianceStatusNotAvailable, types.WorkflowStatusResolved},
}

// Workflow is the workflow status a state calls for.
func Workflow(s State) types.WorkflowStatus { return lifecycle[s].workflow }

var labels = map[plan.Severity]types.SeverityLabel{
	plan.Critical: types.SeverityLabelCritical, plan.High: types.SeverityLabelHigh, plan.Medium: types.SeverityLabelMedium,
	plan.Low: types.SeverityLabelLow, plan.Info: types.SeverityLabelInformational, "": types.SeverityLabelInformational,
}

// Finding is the ASFF finding of a record. productARN is where it goes;
// now is its UpdatedAt (newer than any earlier import of it).
func Finding(res remediations.Result, r Record, productARN string, now time.Time) types.AwsSecurityFinding {
	at := now.UTC().Format(time.RFC3339Nano)
	created := res.Started
	if res.Trigger != nil && !res.Trigger.Time.IsZero() {
		created = res.Trigger.Time
	}
	if created.IsZero() {
		created = now
	}
	lc := lifecycle[r.State]
	sev := &types.Severity{Label: labels[r.Severity], Original: aws.String(string(r.Severity))}
	f := types.AwsSecurityFinding{
		SchemaVersion: aws.String(SchemaVersion),
		Id:            aws.String(ID(r)),
		ProductArn:    aws.String(productARN),
		GeneratorId:   aws.String(GeneratorID(r.Kind)),
		AwsAccountId:  aws.String(r.Target.Account),
		Region:        aws.String(r.Target.Region),
		Types:         Types,
		CreatedAt:     aws.String(created.UTC().Format(time.RFC3339Nano)),
		UpdatedAt:     aws.String(at),
		Severity:      sev,
		// The provider's own values: BatchImportFindings keeps them current
		// even after an analyst changed the top-level ones.
		FindingProviderFields: &types.FindingProviderFields{Severity: &types.FindingProviderSeverity{Label: labels[r.Severity], Original: sev.Original}, Types: Types},
		Title:                 aws.String(cut(title(r), maxTitle)),
		Description:           aws.String(cut(description(r), maxDescription)),
		Resources:             []types.Resource{resource(r)},
		Compliance:            &types.Compliance{Status: lc.compliance},
		// Effective when the import creates the finding; later changes go
		// through BatchUpdateFindings.
		Workflow:      &types.Workflow{Status: lc.workflow},
		RecordState:   types.RecordStateActive,
		ProductFields: productFields(res, r),
		ProductName:   aws.String("bucketguard"),
		CompanyName:   aws.String("bucketguard"),
	}
	if r.Note != "" {
		f.Note = &types.Note{Text: aws.String(cut(r.Note, maxNote)), UpdatedBy: aws.String("bucketguard"), UpdatedAt: aws.String(at)}
	}
	if r.State == Gone {
		f.RecordState = types.RecordStateArchived
	}
	if r.State == Public || r.State == Expired {
		f.Remediation = &types.Remediation{Recommendation: &types.Recommendation{Text: aws.String(cut(recommendation(res, r), maxRemediation))}}
	}
	return f
}

func title(r Record) string {
	what := kindOf[r.Kind].title
	name := r.Target.Name()
	if r.AccessPoint != "" {
		name = fmt.Sprintf("%s (access point %s)", r.Target.Bucket, r.AccessPoint)
	}
	switch r.State {
	case Fixed:
		return fmt.Sprintf("S3 %s: %s, fixed by bucketguard", name, strings.Replace(what, "grants", "granted", 1))
	case Clean:
		return fmt.Sprintf("S3 %s: no public access through its %s", name, strings.TrimSuffix(what, " grants public access"))
	case Approved:
		return fmt.Sprintf("S3 %s: %s (approved public read)", name, what)
	case Unjudged:
		return fmt.Sprintf("S3 %s: %s could not be judged", name, strings.TrimSuffix(what, " grants public access"))
	case Gone:
		return fmt.Sprintf("S3 %s no longer exists", name)
	}
	return fmt.Sprintf("S3 %s: %s", name, what)
}

func description(r Record) string {
	if len(r.Summaries) == 0 {
		if r.Note != "" {
			return r.Note
		}
		return "bucketguard judged it and found nothing public."
	}
	return strings.Join(r.Summaries, "; ")
}

func recommendation(res remediations.Result, r Record) string {
	if r.State == Expired {
		return "Renew the approval tag's expiry if public read is still intended; otherwise remove the public statements or grants (bucketguard in enforce mode does so)."
	}
	if res.Mode == "notify" {
		return "bucketguard runs in notify mode and wrote nothing: remove the public statements or grants, or approve public read with the approval tag."
	}
	return "bucketguard could not complete the fix; see its alert for the actions and errors, and remove the public access by hand."
}

// productFields tie the finding to bucketguard's alert: the incident (the
// CloudTrail event or the sweep run), the evaluation's status and mode.
func productFields(res remediations.Result, r Record) map[string]string {
	m := map[string]string{
		"bucketguard/kind":   string(r.Kind),
		"bucketguard/state":  string(r.State),
		"bucketguard/status": string(res.Status),
		"bucketguard/mode":   string(res.Mode),
	}
	switch {
	case res.Trigger != nil:
		m["bucketguard/incident"] = "event/" + res.Trigger.EventID
	case res.Run != "":
		m["bucketguard/incident"] = "sweep/" + res.Run
	default:
		m["bucketguard/incident"] = "operator"
	}
	if res.Owner != "" {
		m["bucketguard/owner"] = cut(res.Owner, 1024)
	}
	return m
}

// cut shortens s to n bytes on a rune boundary, saying so.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "..."
	s = s[:n-len(more)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + more
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
