package remediations

import (
	"context"
	"fmt"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/policy"
)

// readBack maps each write to the read that shows its effect.
var readBack = map[config.Operation]config.Operation{
	"s3:PutBucketAcl":                "s3:GetBucketAcl",
	"s3:PutBucketPolicy":             "s3:GetBucketPolicy",
	"s3:DeleteBucketPolicy":          "s3:GetBucketPolicy",
	"s3:PutPublicAccessBlock":        "s3:GetPublicAccessBlock",
	"s3:PutBucketEncryption":         "s3:GetBucketEncryption",
	"s3:PutBucketOwnershipControls":  "s3:GetBucketOwnershipControls",
	"s3:PutBucketVersioning":         "s3:GetBucketVersioning",
	"s3:PutBucketLogging":            "s3:GetBucketLogging",
	"s3control:PutPublicAccessBlock": "s3control:GetPublicAccessBlock",
}

type check struct {
	ok     bool
	detail string
}

// verify reads back, in one concurrent round, each setting a finished write
// changed, and says of every action carried by those writes whether the
// setting is now as intended.
func verify(ctx context.Context, c conn, steps []Step, res []stepResult, keepPublicRead bool) (Posture, map[ActionName]check) {
	after := Posture{Target: c.t}
	var r reading
	seen := map[config.Operation]bool{}
	for i, st := range steps {
		op := readBack[st.Op]
		if !res[i].done || seen[op] {
			continue
		}
		seen[op] = true
		reads[op](ctx, &r, c, &after, true)
	}
	r.wg.Wait()

	out := map[ActionName]check{}
	for i, st := range steps {
		if !res[i].done {
			continue
		}
		for _, name := range st.Actions {
			out[name] = judgeAfter(name, st, after, keepPublicRead)
		}
	}
	return after, out
}

func readFailed[T any](f Fact[T]) (check, bool) {
	if f.State == Failed {
		return check{detail: "read-back failed: " + f.Error}, true
	}
	return check{}, false
}

func judgeAfter(name ActionName, st Step, after Posture, keepPublicRead bool) check {
	switch name {
	case RemovePublicACLGrants:
		if c, bad := readFailed(after.ACL); bad {
			return c
		}
		if r := acl.Judge(after.ACL.Value); r.Public {
			return check{detail: fmt.Sprintf("the ACL still has %d public grant(s)", len(r.PublicGrants))}
		}
		if missing := missingGrants(*st.ACL, after.ACL.Value); missing > 0 {
			return check{detail: fmt.Sprintf("%d grant(s) meant to stay are not in the ACL read back", missing)}
		}
		return check{ok: true, detail: "ACL read back with no public grant and every other grant in place"}

	case RemovePublicPolicyStatements, RequireTLS:
		if c, bad := readFailed(after.Policy); bad {
			return c
		}
		if st.DeletePolicy {
			if after.Policy.State == Absent {
				return check{ok: true, detail: "the bucket has no policy now"}
			}
			return check{detail: "a policy is still attached"}
		}
		if after.Policy.State != Set {
			return check{detail: "no policy read back"}
		}
		doc, err := policy.Parse([]byte(after.Policy.Value))
		if err != nil {
			return check{detail: "policy read back does not parse: " + err.Error()}
		}
		if name == RequireTLS {
			if doc.RequiresTLS(after.Partition(), after.Bucket) {
				return check{ok: true, detail: "TLS-only statement read back"}
			}
			return check{detail: "no TLS-only statement in the policy read back"}
		}
		for _, s := range doc.Statements {
			if v := s.Judge(); v.Public && (v.Write || !keepPublicRead) {
				return check{detail: fmt.Sprintf("statement %d is still public", s.Index)}
			}
		}
		have := map[string]int{}
		for _, s := range doc.Statements {
			c, _ := policy.Canonical(s.Raw)
			have[c]++
		}
		for _, k := range st.keptPolicy {
			if have[k] == 0 {
				return check{detail: "a statement meant to stay is not in the policy read back"}
			}
			have[k]--
		}
		return check{ok: true, detail: "policy read back with no public statement and every other statement in place"}

	case BlockPublicAccess:
		if c, bad := readFailed(after.BucketBPA); bad {
			return c
		}
		if after.BucketBPA.State == Set && after.BucketBPA.Value.Covers(*st.BPA) {
			return check{ok: true, detail: renderBPA(after.BucketBPA.Value)}
		}
		return check{detail: "read back " + renderBPAFact(after.BucketBPA)}

	case RestoreDefaultEncryption:
		if c, bad := readFailed(after.Encryption); bad {
			return c
		}
		e, want := after.Encryption.Value, *st.Encryption
		if after.Encryption.State == Set && e.Algorithm == want.Algorithm && (want.KMSKeyID == "" || sameKey(e.KMSKeyID, want.KMSKeyID)) {
			return check{ok: true, detail: renderEnc(e)}
		}
		return check{detail: "read back " + renderEncFact(after.Encryption)}

	case EnforceBucketOwner:
		if c, bad := readFailed(after.Ownership); bad {
			return c
		}
		if after.Ownership.Value == BucketOwnerEnforced {
			return check{ok: true, detail: BucketOwnerEnforced}
		}
		return check{detail: "read back " + orNone(after.Ownership.Value)}

	case EnableVersioning:
		if c, bad := readFailed(after.Versioning); bad {
			return c
		}
		if after.Versioning.Value == "Enabled" {
			return check{ok: true, detail: "Enabled"}
		}
		return check{detail: "read back " + orNone(after.Versioning.Value)}

	case EnableAccessLogging:
		if c, bad := readFailed(after.Logging); bad {
			return c
		}
		if after.Logging.State == Set && after.Logging.Value.TargetBucket == st.Logging.TargetBucket {
			return check{ok: true, detail: "logging to " + after.Logging.Value.TargetBucket}
		}
		return check{detail: "logging read back off"}

	case BlockAccountPublicAccess:
		if c, bad := readFailed(after.AccountBPA); bad {
			return c
		}
		if after.AccountBPA.State == Set && after.AccountBPA.Value.Covers(AllOn) {
			return check{ok: true, detail: renderBPA(after.AccountBPA.Value)}
		}
		return check{detail: "read back " + renderBPAFact(after.AccountBPA)}
	}
	return check{detail: "no read-back for " + string(name)}
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
