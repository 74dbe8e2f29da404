// Package ocsf writes what bucketguard knows of each target as OCSF
// Compliance Findings (class 2003, OCSF 1.1.0), for a SIEM or Amazon
// Security Lake: the same exposures, states and ids as the Security Hub
// findings (package securityhub), one JSON object per line. Compliance
// Finding is the class for a resource evaluated against a rule, passed or
// failed; Detection Finding is for activity, which a posture is not.
// https://schema.ocsf.io/1.1.0/classes/compliance_finding
package ocsf

import (
	"encoding/json"
	"io"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/securityhub"
)

// Version is the OCSF version the findings follow (metadata.version).
const Version = "1.1.0"

// The class: Findings category (2), Compliance Finding (2003).
const (
	CategoryUID = 2
	ClassUID    = 2003
)

// Activities of a finding.
const (
	Create = 1 // the exposure is (still) there
	Close  = 3 // it is gone: fixed, clean, or the bucket deleted
)

// Finding is one Compliance Finding. In 1.1.0 the class names one
// resource (`resource`, a Resource Details object); the `resources` array
// came with 1.3.0.
type Finding struct {
	ActivityID     int            `json:"activity_id"`
	ActivityName   string         `json:"activity_name"`
	CategoryUID    int            `json:"category_uid"`
	CategoryName   string         `json:"category_name"`
	ClassUID       int            `json:"class_uid"`
	ClassName      string         `json:"class_name"`
	TypeUID        int            `json:"type_uid"`
	TypeName       string         `json:"type_name"`
	SeverityID     int            `json:"severity_id"`
	Severity       string         `json:"severity"`
	Time           int64          `json:"time"`
	TimezoneOffset int            `json:"timezone_offset"`
	Message        string         `json:"message"`
	StatusID       int            `json:"status_id"`
	Status         string         `json:"status"`
	Metadata       Metadata       `json:"metadata"`
	Cloud          Cloud          `json:"cloud"`
	FindingInfo    FindingInfo    `json:"finding_info"`
	Compliance     Compliance     `json:"compliance"`
	Resource       Resource       `json:"resource"`
	Remediation    *Remediation   `json:"remediation,omitempty"`
	Unmapped       map[string]any `json:"unmapped,omitempty"`
}

// Metadata names the schema version, the profiles used and the product.
type Metadata struct {
	Version  string   `json:"version"`
	Profiles []string `json:"profiles"`
	Product  Product  `json:"product"`
}

// Cloud is the cloud profile's object: where the resource lives.
type Cloud struct {
	Provider string  `json:"provider"`
	Region   string  `json:"region"`
	Account  Account `json:"account"`
}

// Account is the AWS account (type_id 10, "AWS Account").
type Account struct {
	UID    string `json:"uid"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// Product is bucketguard.
type Product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	UID        string `json:"uid,omitempty"`
}

// FindingInfo identifies the finding: its uid is the Security Hub finding's
// Id.
type FindingInfo struct {
	UID         string   `json:"uid"`
	Title       string   `json:"title"`
	Desc        string   `json:"desc,omitempty"`
	Types       []string `json:"types,omitempty"`
	CreatedTime int64    `json:"created_time,omitempty"`
}

// Compliance is the check's verdict.
type Compliance struct {
	Standards []string `json:"standards"`
	Control   string   `json:"control"`
	StatusID  int      `json:"status_id"`
	Status    string   `json:"status"`
}

// Resource is the bucket or access point (Resource Details).
type Resource struct {
	UID            string `json:"uid"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	Region         string `json:"region"`
	CloudPartition string `json:"cloud_partition"`
	Owner          *Owner `json:"owner,omitempty"`
}

// Owner is the owner tag's value, as a User object's name.
type Owner struct {
	Name string `json:"name"`
}

// Remediation says what to do.
type Remediation struct {
	Desc string `json:"desc"`
}

var severities = map[plan.Severity]struct {
	id   int
	name string
}{
	plan.Info: {1, "Informational"}, "": {1, "Informational"}, plan.Low: {2, "Low"}, plan.Medium: {3, "Medium"},
	plan.High: {4, "High"}, plan.Critical: {5, "Critical"},
}

// compliance status_id: 3 Fail (the bucket is public; approved public read
// too, its finding suppressed by the approval), 2 Warning (the check "did
// not yield a result due to missing information": a setting that could not
// be read), 1 Pass, 0 Unknown (the bucket is gone: nothing to check).
// Finding status_id in 1.1.0: 1 New, 3 Suppressed, 4 Resolved, and 99
// Other with the status named, for a deleted bucket's finding (Security
// Hub archives it).
var states = map[securityhub.State]struct {
	activity, compliance, status int
	complianceName, statusName   string
}{
	securityhub.Public:   {Create, 3, 1, "Fail", "New"},
	securityhub.Expired:  {Create, 3, 1, "Fail", "New"},
	securityhub.Unjudged: {Create, 2, 1, "Warning", "New"},
	securityhub.Approved: {Create, 3, 3, "Fail", "Suppressed"},
	securityhub.Fixed:    {Close, 1, 4, "Pass", "Resolved"},
	securityhub.Clean:    {Close, 1, 4, "Pass", "Resolved"},
	securityhub.Gone:     {Close, 0, 99, "Unknown", "Archived"},
}

// Findings are the result's Compliance Findings, one per exposure.
func Findings(res remediations.Result, now time.Time) []Finding {
	var out []Finding
	for _, r := range securityhub.Records(res) {
		out = append(out, finding(res, r, now))
	}
	return out
}

func finding(res remediations.Result, r securityhub.Record, now time.Time) Finding {
	asff := securityhub.Finding(res, r, "", now)
	sev, st := severities[r.Severity], states[r.State]
	activity := map[int]string{Create: "Create", Close: "Close"}[st.activity]
	f := Finding{
		ActivityID: st.activity, ActivityName: activity,
		CategoryUID: CategoryUID, CategoryName: "Findings", ClassUID: ClassUID, ClassName: "Compliance Finding",
		TypeUID: ClassUID*100 + st.activity, TypeName: "Compliance Finding: " + activity,
		SeverityID: sev.id, Severity: sev.name, Time: now.UnixMilli(),
		Message: *asff.Title, StatusID: st.status, Status: st.statusName,
		Metadata: Metadata{Version: Version, Profiles: []string{"cloud"},
			Product: Product{Name: "bucketguard", VendorName: "bucketguard", UID: securityhub.GeneratorID(r.Kind)}},
		Cloud: Cloud{Provider: "AWS", Region: r.Target.Region, Account: Account{UID: r.Target.Account, TypeID: 10, Type: "AWS Account"}},
		FindingInfo: FindingInfo{UID: securityhub.ID(r), Title: *asff.Title, Desc: *asff.Description, Types: securityhub.Types,
			CreatedTime: created(asff.CreatedAt)},
		Compliance: Compliance{Standards: []string{"bucketguard"}, Control: string(r.Kind), StatusID: st.compliance, Status: st.complianceName},
		Resource: Resource{UID: *asff.Resources[0].Id, Name: r.Target.Name(), Type: *asff.Resources[0].Type,
			Region: r.Target.Region, CloudPartition: r.Target.Partition()},
		Unmapped: map[string]any{"bucketguard": asff.ProductFields},
	}
	if res.Owner != "" {
		f.Resource.Owner = &Owner{Name: res.Owner}
	}
	if r.AccessPoint != "" {
		f.Resource.Name = r.AccessPoint
	}
	if asff.Remediation != nil {
		f.Remediation = &Remediation{Desc: *asff.Remediation.Recommendation.Text}
	}
	return f
}

func created(s *string) int64 {
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}

// Write prints findings one JSON object a line.
func Write(w io.Writer, fs []Finding) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, f := range fs {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}
