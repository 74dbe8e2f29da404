package plan

import (
	"fmt"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Tampering: a Deny in the bucket policy that can refuse bucketguard's own
// calls. bucketguard never removes or loosens a Deny (many locked-down
// buckets deny everyone but named roles, which is good practice); it says
// which of its calls the statement can refuse, as a finding of its own:
// critical beside public access (someone keeping a bucket open out of
// bucketguard's sight or reach), medium otherwise.

// caller is bucketguard as a bucket policy sees it.
func (pl *planner) caller() policy.Caller {
	cfg := pl.in.Config
	c := policy.Caller{Account: pl.p.Account, Region: pl.p.Region, Resource: policy.BucketARN(pl.p.Partition(), pl.p.Bucket)}
	if pl.p.ACL.State == posture.Set {
		c.CanonicalID = pl.p.ACL.Value.Owner.ID // the bucket owner: the account
	}
	for _, r := range cfg.SelfRoles {
		c.RoleARNs = append(c.RoleARNs, r.ARN)
	}
	c.Actions = cfg.ReadActions(op.Bucket)
	c.Actions = append(c.Actions, cfg.WriteActions(op.Bucket)...)
	return c
}

func (pl *planner) tampering() {
	if len(pl.denials) == 0 || len(pl.in.Config.SelfRoles) == 0 {
		return
	}
	public := pl.Exemption != nil && len(pl.Exemption.KeptStatements) > 0
	for _, f := range pl.Findings {
		switch f.ID {
		case PublicPolicyStatement, PublicACLGrant, AWSJudgesPolicyPublic, PublicAccessPointStatement:
			public = true
		}
	}
	for _, d := range pl.denials {
		f := Finding{ID: DeniesBucketguard, Severity: Medium, Setting: "policy", Statement: ptr(d.Index)}
		what := fmt.Sprintf("policy statement %d%s is a Deny that can refuse bucketguard's own %s", d.Index, sidNote(d.Sid), strings.Join(d.Actions, ", "))
		if public {
			f.Severity = Critical
			f.Summary = "tampering: " + what + ", on a bucket with public access: bucketguard cannot fully see or fix it; the Deny is kept (exempt bucketguard's roles in it, see docs/semantics.md)"
		} else {
			f.Summary = what + ": bucketguard cannot fully see or fix this bucket; the Deny is kept (exempt bucketguard's roles in it, see docs/semantics.md)"
		}
		pl.find(f)
	}
}
