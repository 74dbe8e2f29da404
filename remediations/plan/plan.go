// Package plan is the pure middle of an evaluation: from a posture and the
// configuration to the findings and the fixes, as writes (Steps) with what
// each must leave behind for the read-back to check. Same posture and input,
// same plan; nothing here talks to AWS.
package plan

import (
	"fmt"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// ActionName names a fix.
type ActionName string

// The fixes, in the order they are planned (see Step.After for the order in
// which they are written).
const (
	RemovePublicACLGrants        ActionName = "remove-public-acl-grants"
	RemovePublicPolicyStatements ActionName = "remove-public-policy-statements"
	RequireTLS                   ActionName = "require-tls"
	BlockPublicAccess            ActionName = "block-public-access"
	RestoreDefaultEncryption     ActionName = "restore-default-encryption"
	EnforceBucketOwner           ActionName = "enforce-bucket-owner"
	EnableVersioning             ActionName = "enable-versioning"
	EnableAccessLogging          ActionName = "enable-access-logging"
	BlockAccountPublicAccess     ActionName = "block-account-public-access"
	// RemovePublicAccessPointStatements is per access point: its actions
	// and steps name the access point.
	RemovePublicAccessPointStatements ActionName = "remove-public-access-point-statements"
)

// Action is one named fix of the plan.
type Action struct {
	Name    ActionName   `json:"name"`
	Setting string       `json:"setting"`
	Op      op.Operation `json:"op,omitempty"` // the write that carries it out
	Why     string       `json:"why"`
	Before  string       `json:"before,omitempty"`
	After   string       `json:"after,omitempty"`
	// Skipped says why the fix will not be attempted; empty when it will.
	Skipped string `json:"skipped,omitempty"`
	// AccessPoint names the access point the fix is for, if any.
	AccessPoint string `json:"access_point,omitempty"`
}

// Key tells actions apart: the name, and the access point for the
// per-access-point fixes.
func (a Action) Key() string { return ActionKey(a.Name, a.AccessPoint) }

// ActionKey is Action.Key from its parts.
func ActionKey(name ActionName, accessPoint string) string {
	if accessPoint == "" {
		return string(name)
	}
	return string(name) + "@" + accessPoint
}

// Step is one write. The policy fixes share one: removing statements and
// adding the TLS-only statement are a single PutBucketPolicy.
type Step struct {
	Op      op.Operation `json:"op"`
	Actions []ActionName `json:"actions"`

	BPA          *posture.BPA        `json:"bpa,omitempty"`
	Policy       string              `json:"policy,omitempty"`
	DeletePolicy bool                `json:"delete_policy,omitempty"`
	ACL          *acl.ACL            `json:"acl,omitempty"`
	Encryption   *posture.Encryption `json:"encryption,omitempty"`
	Ownership    string              `json:"ownership,omitempty"`
	Versioning   string              `json:"versioning,omitempty"`
	Logging      *posture.Logging    `json:"logging,omitempty"`
	// AccessPoint is the access point whose policy the step writes.
	AccessPoint *posture.AccessPoint `json:"access_point,omitempty"`

	// KeptStatements are the canonical forms of the policy statements the
	// write must leave in place, for the read-back to check.
	KeptStatements []string `json:"-"`
}

// AccessPointName is the name of the access point the step writes, or "".
func (st Step) AccessPointName() string {
	if st.AccessPoint == nil {
		return ""
	}
	return st.AccessPoint.Name
}

// Exemption records the public-read approval and what it did.
type Exemption struct {
	Tag    string     `json:"tag"`
	Status Approval   `json:"status"`
	Until  *time.Time `json:"until,omitempty"`
	// Used is true when the approval kept public read that would otherwise
	// have been removed, or shaped Block Public Access around it.
	Used bool `json:"used"`
	// KeptStatements are the public-read statements left in place.
	KeptStatements []int `json:"kept_statements,omitempty"`
}

// Approval is the state of a bucket's public-read approval.
type Approval string

// Approval states.
const (
	Approved Approval = "approved"
	Expired  Approval = "expired" // honoured no more: enforced as if absent
	Invalid  Approval = "invalid" // an unreadable expiry: not honoured
	Unknown  Approval = "unknown" // the tags could not be read
)

// KeepsPublicRead reports whether an exemption leaves public read in place:
// an approval, or tags that could not be read to tell.
func (x *Exemption) KeepsPublicRead() bool {
	return x != nil && (x.Status == Approved || x.Status == Unknown)
}

// Plan is what bucketguard will do about a posture.
type Plan struct {
	Target    posture.Target `json:"target"`
	Mode      config.Mode    `json:"mode"`
	Findings  []Finding      `json:"findings"`
	Actions   []Action       `json:"actions"`
	Steps     []Step         `json:"steps"`
	Exemption *Exemption     `json:"exemption,omitempty"`
	Notes     []string       `json:"notes,omitempty"`
	// RecordApproval is the approval to record, when a call that can change
	// tags changed it (or it was never recorded).
	RecordApproval *ApprovalTags `json:"record_approval,omitempty"`
	// Unresolved says what public access may remain after the plan that no
	// valid approval keeps: an evaluation with any is never "remediated".
	Unresolved []string `json:"unresolved,omitempty"`
}

// Severity is the worst severity among the findings.
func (p Plan) Severity() Severity { return Worst(p.Findings) }

// Input is what the planner needs besides the posture.
type Input struct {
	Config config.Config
	Now    time.Time
	// Event is the CloudTrail event name that triggered the evaluation,
	// empty for a sweep or the CLI.
	Event       events.Name
	Actor       string
	RequestTags map[string]string
	RemovedTags []string
	// PriorApproval is the approval as bucketguard last recorded it, for a
	// call that can change tags; nil when none is recorded (or no ledger
	// keeps records: then the request alone tells what changed).
	PriorApproval *ApprovalTags
	// ApprovalsRecorded says a ledger keeps approval records.
	ApprovalsRecorded bool
}

type planner struct {
	Plan
	p  posture.Posture
	in Input
	// keepPublicRead is true when public read may stay: the bucket is
	// approved, or its tags could not be read to tell.
	keepPublicRead bool
	// aclAfter is the ACL as it will be after the plan, when known.
	aclAfter *acl.ACL
	// failClosed adds RestrictPublicBuckets where public read would
	// otherwise stay: a read that decides it was refused.
	failClosed bool
	// denials are the Deny statements that can refuse bucketguard's calls.
	denials []policy.Denial
}

// New decides what to do about a posture. It is pure: same posture and
// input, same plan.
func New(p posture.Posture, in Input) Plan {
	pl := &planner{Plan: Plan{Target: p.Target, Mode: in.Config.Mode, Findings: []Finding{}, Actions: []Action{}, Steps: []Step{}}, p: p, in: in}
	if p.Target.AccessPoint != nil {
		pl.accessPoints()
		return pl.Plan
	}
	if p.AccountLevel() {
		pl.accountBPA(true)
		return pl.Plan
	}
	pl.approval()
	pl.acl()
	pl.policy()
	if pl.accessPointsRefused() {
		pl.failClosed = true
	}
	pl.bucketBPA()
	pl.encryption()
	pl.ownership()
	pl.versioning()
	pl.logging()
	pl.accountBPA(false)
	pl.accessPoints()
	pl.tampering()
	pl.approvedSurface()
	return pl.Plan
}

func (pl *planner) find(f Finding) { pl.Findings = append(pl.Findings, f) }

// unreadable reports a setting whose read failed: it is not judged, and
// nothing is written on a guess.
func (pl *planner) unreadable(id FindingID, setting, label string, f posture.Fact[string]) {
	pl.find(Finding{ID: id, Severity: High, Setting: setting,
		Summary: fmt.Sprintf("could not read the %s (%s); it was not judged and is left as it is", label, f.Error)})
}

// act adds actions and, unless all are skipped, one step carrying them.
func (pl *planner) act(step *Step, actions ...Action) {
	for i := range actions {
		if actions[i].Skipped == "" && step != nil {
			actions[i].Op = step.Op
			step.Actions = append(step.Actions, actions[i].Name)
		}
	}
	if step != nil && step.AccessPoint != nil {
		for i := range actions {
			actions[i].AccessPoint = step.AccessPoint.Name
		}
	}
	pl.Actions = append(pl.Actions, actions...)
	if step != nil && len(step.Actions) > 0 {
		pl.Steps = append(pl.Steps, *step)
	}
}

func ptr(i int) *int { return &i }

func errFact[T any](f posture.Fact[T]) posture.Fact[string] {
	return posture.Fact[string]{State: f.State, Error: f.Error}
}
