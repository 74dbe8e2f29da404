// Package verify is the last step before the alert: it reads back, in one
// concurrent round, each setting a write changed, and says of every action
// whether the setting now is as intended. A write is never taken on trust.
package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/read"
)

// Check is the read-back's verdict on one action.
type Check struct {
	OK     bool
	Detail string
}

// Run reads back the settings the done steps changed, in one concurrent
// round, and judges every action those steps carried (keyed by
// plan.ActionKey). done[i] says whether steps[i] was written.
func Run(ctx context.Context, c read.Clients, t posture.Target, steps []plan.Step, done []bool, keepPublicRead bool) (posture.Posture, map[string]Check) {
	after := posture.Posture{Target: t}
	var ops []op.Operation
	var aps []posture.AccessPoint
	for i, st := range steps {
		spec, _ := op.Lookup(st.Op)
		switch {
		case !done[i]:
		case st.AccessPoint != nil:
			aps = append(aps, posture.AccessPoint{AccessPointRef: st.AccessPoint.AccessPointRef, Alias: st.AccessPoint.Alias})
		case spec.ReadBack != "" && !slices.Contains(ops, spec.ReadBack):
			ops = append(ops, spec.ReadBack)
		}
	}
	after.AccessPoints = posture.Fact[[]posture.AccessPoint]{State: posture.Set, Value: aps}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the access points' read-backs in the same round
		defer wg.Done()
		read.AccessPointRound(ctx, c, &after, true, true)
	}()
	read.Round(ctx, c, &after, ops, true)
	wg.Wait()

	out := map[string]Check{}
	for i, st := range steps {
		if !done[i] {
			continue
		}
		for _, name := range st.Actions {
			key := plan.ActionKey(name, st.AccessPointName())
			if st.AccessPoint != nil {
				out[key] = checkAccessPoint(st, after)
				continue
			}
			out[key] = judgeAfter(name, st, after, keepPublicRead)
		}
	}
	return after, out
}

// checkAccessPoint: the access point's policy read back has no public
// statement, and every statement meant to stay is there.
func checkAccessPoint(st plan.Step, after posture.Posture) Check {
	var got posture.AccessPoint
	for _, ap := range after.AccessPoints.Value {
		if ap.Name == st.AccessPoint.Name && ap.Kind == st.AccessPoint.Kind {
			got = ap
		}
	}
	if c, bad := readFailed(got.Policy); bad {
		return c
	}
	if st.DeletePolicy {
		if got.Policy.State == posture.Absent {
			return Check{OK: true, Detail: "the access point has no policy now"}
		}
		return Check{Detail: "a policy is still attached to the access point"}
	}
	if got.Policy.State != posture.Set {
		return Check{Detail: "no access point policy read back"}
	}
	return checkStatements(got.Policy.Value, st.KeptStatements, false, true)
}

func readFailed[T any](f posture.Fact[T]) (Check, bool) {
	if f.State == posture.Failed {
		return Check{Detail: "read-back failed: " + f.Error}, true
	}
	return Check{}, false
}

func judgeAfter(name plan.ActionName, st plan.Step, after posture.Posture, keepPublicRead bool) Check {
	switch name {
	case plan.RemovePublicACLGrants:
		return checkACL(st, after)
	case plan.RemovePublicPolicyStatements, plan.RequireTLS:
		return checkPolicy(name, st, after, keepPublicRead)
	case plan.BlockPublicAccess:
		if c, bad := readFailed(after.BucketBPA); bad {
			return c
		}
		if after.BucketBPA.State == posture.Set && after.BucketBPA.Value.Covers(*st.BPA) {
			return Check{OK: true, Detail: plan.DescribeBPA(after.BucketBPA.Value)}
		}
		return Check{Detail: "read back " + plan.DescribeBPAFact(after.BucketBPA)}
	case plan.BlockAccountPublicAccess:
		if c, bad := readFailed(after.AccountBPA); bad {
			return c
		}
		if after.AccountBPA.State == posture.Set && after.AccountBPA.Value.Covers(posture.AllOn) {
			return Check{OK: true, Detail: plan.DescribeBPA(after.AccountBPA.Value)}
		}
		return Check{Detail: "read back " + plan.DescribeBPAFact(after.AccountBPA)}
	case plan.RestoreDefaultEncryption, plan.EnforceBucketOwner, plan.EnableVersioning, plan.EnableAccessLogging:
		return checkControl(name, st, after)
	}
	return Check{Detail: "no read-back for " + string(name)}
}

// checkACL: no public grant is left, and every grant meant to stay is there.
func checkACL(st plan.Step, after posture.Posture) Check {
	if c, bad := readFailed(after.ACL); bad {
		return c
	}
	if r := acl.Judge(after.ACL.Value); r.Public {
		return Check{Detail: fmt.Sprintf("the ACL still has %d public grant(s)", len(r.PublicGrants))}
	}
	if missing := missingGrants(*st.ACL, after.ACL.Value); missing > 0 {
		return Check{Detail: fmt.Sprintf("%d grant(s) meant to stay are not in the ACL read back", missing)}
	}
	return Check{OK: true, Detail: "ACL read back with no public grant and every other grant in place"}
}

// checkPolicy: no public statement is left (but approved public read), every
// statement meant to stay is there, and the TLS-only statement is in place.
func checkPolicy(name plan.ActionName, st plan.Step, after posture.Posture, keepPublicRead bool) Check {
	if c, bad := readFailed(after.Policy); bad {
		return c
	}
	if st.DeletePolicy {
		if after.Policy.State == posture.Absent {
			return Check{OK: true, Detail: "the bucket has no policy now"}
		}
		return Check{Detail: "a policy is still attached"}
	}
	if after.Policy.State != posture.Set {
		return Check{Detail: "no policy read back"}
	}
	doc, err := policy.Parse([]byte(after.Policy.Value))
	if err != nil {
		return Check{Detail: "policy read back does not parse: " + err.Error()}
	}
	if name == plan.RequireTLS {
		if doc.RequiresTLS(after.Partition(), after.Bucket) {
			return Check{OK: true, Detail: "TLS-only statement read back"}
		}
		return Check{Detail: "no TLS-only statement in the policy read back"}
	}
	return checkStatements(after.Policy.Value, st.KeptStatements, keepPublicRead, false)
}

// checkStatements: the document read back has no public statement (but
// approved public read) and holds every statement meant to stay.
func checkStatements(raw string, kept []string, keepPublicRead, accessPoint bool) Check {
	doc, err := policy.Parse([]byte(raw))
	if err != nil {
		return Check{Detail: "policy read back does not parse: " + err.Error()}
	}
	if accessPoint {
		doc.ForAccessPoint()
	}
	for _, s := range doc.Statements {
		if v := s.Judge(); v.Public && (v.Write || !keepPublicRead) {
			return Check{Detail: fmt.Sprintf("statement %d is still public", s.Index)}
		}
	}
	have := map[string]int{}
	for _, s := range doc.Statements {
		c, _ := policy.Canonical(s.Raw)
		have[c]++
	}
	for _, k := range kept {
		if have[k] == 0 {
			return Check{Detail: "a statement meant to stay is not in the policy read back"}
		}
		have[k]--
	}
	return Check{OK: true, Detail: "policy read back with no public statement and every other statement in place"}
}

// checkControl judges the other controls: encryption, ownership, versioning
// and logging.
func checkControl(name plan.ActionName, st plan.Step, after posture.Posture) Check {
	switch name {
	case plan.RestoreDefaultEncryption:
		if c, bad := readFailed(after.Encryption); bad {
			return c
		}
		e, want := after.Encryption.Value, *st.Encryption
		if after.Encryption.State == posture.Set && e.Algorithm == want.Algorithm && (want.KMSKeyID == "" || plan.SameKey(e.KMSKeyID, want.KMSKeyID)) {
			return Check{OK: true, Detail: plan.DescribeEncryption(e)}
		}
		return Check{Detail: "read back " + plan.DescribeEncryptionFact(after.Encryption)}
	case plan.EnforceBucketOwner:
		if c, bad := readFailed(after.Ownership); bad {
			return c
		}
		if after.Ownership.Value == posture.BucketOwnerEnforced {
			return Check{OK: true, Detail: posture.BucketOwnerEnforced}
		}
		return Check{Detail: "read back " + orNone(after.Ownership.Value)}
	case plan.EnableVersioning:
		if c, bad := readFailed(after.Versioning); bad {
			return c
		}
		if after.Versioning.Value == "Enabled" {
			return Check{OK: true, Detail: "Enabled"}
		}
		return Check{Detail: "read back " + orNone(after.Versioning.Value)}
	default: // plan.EnableAccessLogging
		if c, bad := readFailed(after.Logging); bad {
			return c
		}
		if after.Logging.State == posture.Set && after.Logging.Value.TargetBucket == st.Logging.TargetBucket {
			return Check{OK: true, Detail: "logging to " + after.Logging.Value.TargetBucket}
		}
		return Check{Detail: "logging read back off"}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func grantKey(g acl.Grant) string {
	return strings.Join([]string{g.Grantee.ID, strings.ToLower(g.Grantee.URI), strings.ToLower(g.Grantee.EmailAddress), g.Permission}, "|")
}

// missingGrants counts the grants of want that are not in got.
func missingGrants(want, got acl.ACL) int {
	have := map[string]int{}
	for _, g := range got.Grants {
		have[grantKey(g)]++
	}
	missing := 0
	for _, g := range want.Grants {
		if have[grantKey(g)] == 0 {
			missing++
			continue
		}
		have[grantKey(g)]--
	}
	return missing
}
