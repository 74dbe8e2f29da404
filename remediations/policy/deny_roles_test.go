package policy_test

import (
	"testing"

	"github.com/bucketguard/bucketguard/remediations/policy"
)

// DeniesTo against each of bucketguard's roles and sessions, and the
// stricter judge, on the cases an attacker tries.

// The deployed stack has two roles (BUCKETGUARD_SELF_ROLE_ARN names both,
// infra/stack.go), and a Lambda function's role session is named after the
// function, not "bucketguard".
var twoRoles = policy.Caller{
	RoleARNs: []string{
		"arn:aws:iam::111122223333:role/BucketGuard-eu-west-1-RemediateRoleABC",
		"arn:aws:iam::111122223333:role/BucketGuard-eu-west-1-SweepRoleDEF",
	},
	Account: "111122223333", Region: "eu-west-1", Resource: "arn:aws:s3:::acme-data",
	Actions: []string{"s3:GetBucketTagging", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock"},
}

const reviewRes = `"Resource":["arn:aws:s3:::acme-data","arn:aws:s3:::acme-data/*"]`

func deniedActions(t *testing.T, c policy.Caller, stmt string) []string {
	t.Helper()
	d, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[` + stmt + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, g := range d.DeniesTo(c) {
		acts = append(acts, g.Actions...)
	}
	return acts
}

// False negatives: Deny statements that DO refuse one of bucketguard's roles
// on AWS, yet DeniesTo reports nothing (no "tampering" finding).
func TestDeniesToEachRoleAndSession(t *testing.T) {
	for _, tc := range []struct{ name, stmt string }{
		// Each request carries ONE aws:PrincipalArn. Exempting only the sweep
		// role denies the remediate role; DeniesTo evaluates both roles as
		// one multi-valued key, finds a match and calls the negation false.
		{"StringNotEquals exempts only the sweep role", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + reviewRes +
			`,"Condition":{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/BucketGuard-eu-west-1-SweepRoleDEF"}}}`},
		{"ArnNotLike exempts only the remediate role", `{"Effect":"Deny","Principal":"*","Action":"s3:Put*",` + reviewRes +
			`,"Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*RemediateRole*"}}}`},
		// A role session principal names the session (the function name).
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#sts-session-principals
		{"Principal is the real Lambda session ARN", `{"Effect":"Deny","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/BucketGuard-eu-west-1-RemediateRoleABC/BucketGuard-eu-west-1-RemediateFunction123"},"Action":"s3:GetBucketTagging",` + reviewRes + `}`},
		// ForAllValues on a key absent from the request evaluates to true
		// (empty set), so this Deny refuses every direct caller.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
		{"ForAllValues:StringEquals on absent aws:CalledVia", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + reviewRes +
			`,"Condition":{"ForAllValues:StringEquals":{"aws:CalledVia":"cloudformation.amazonaws.com"}}}`},
		{"ForAllValues:StringEquals on absent aws:SourceVpce", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + reviewRes +
			`,"Condition":{"ForAllValues:StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deniedActions(t, twoRoles, tc.stmt); len(got) == 0 {
				t.Errorf("DeniesTo reports nothing, but AWS refuses bucketguard's calls under:\n%s", tc.stmt)
			}
		})
	}
}

// False positives: AWS-recommended hardening Deny statements that never
// apply to bucketguard's SDK calls (TLS 1.2+, SigV4, header auth), yet
// DeniesTo reports them: a "medium" finding on every locked-down bucket,
// and "critical tampering" on an approved website bucket beside them.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
func TestDeniesToIgnoresHardeningTheSDKMeets(t *testing.T) {
	for _, tc := range []struct{ name, cond string }{
		{"TLS older than 1.2", `{"NumericLessThan":{"s3:TlsVersion":"1.2"}}`},
		{"SigV2", `{"StringNotEquals":{"s3:signatureversion":"AWS4-HMAC-SHA256"}}`},
		{"query-string auth only", `{"StringNotEquals":{"s3:authType":"REST-HEADER"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + reviewRes + `,"Condition":` + tc.cond + `}`
			if got := deniedActions(t, twoRoles, s); len(got) > 0 {
				t.Errorf("reported as refusing bucketguard %v, but its SDK calls never match %s", got, tc.cond)
			}
		})
	}
}

// What held up (kept as regression cases): evasions the change does judge
// as AWS (or stricter) would.
func TestStricterJudgeAndDeniesToRegressions(t *testing.T) {
	for _, tc := range []struct {
		name, stmt string
		public     bool
	}{
		{"userid ANONYMOUS via StringLike", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"StringLike":{"aws:userid":"ANONYMOUS"}}}`, true},
		{"userid list with anonymous, ForAnyValue", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"ForAnyValue:StringEquals":{"aws:userid":["AIDAEXAMPLE","anonymous"]}}}`, true},
		{"IPv4-mapped ::/96 is 0.0.0.0/0", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":"::ffff:0.0.0.0/96"}}}`, true},
		{"mapped /8 plus plain /8 add up", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":["::ffff:1.0.0.0/104","2.0.0.0/8"]}}}`, true},
		{"overlapping /8 and /9 count once", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":["54.0.0.0/8","54.0.0.0/9","54.128.0.0/9"]}}}`, false},
		{"invalid CIDR does not pin", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":["54.0.0.0/8","not-an-ip"]}}}`, true},
		{"private ranges with one public /8", `{"Effect":"Allow","Principal":"*",` + getObj + `,"Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","172.16.0.0/12","192.168.0.0/16","3.0.0.0/8"]}}}`, false},
		{"Federated list mixing a SAML ARN and Google", `{"Effect":"Allow","Principal":{"Federated":["arn:aws:iam::111122223333:saml-provider/Okta","accounts.google.com"]},` + getObj + `}`, true},
		{"Federated OIDC ARN of another account", `{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com"},` + getObj + `}`, false},
		{"Federated provider ARN with a policy variable", `{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/${aws:username}"},` + getObj + `}`, true},
		{"Allow NotPrincipal", `{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},` + getObj + `}`, true},
	} {
		if v := stmt(t, tc.stmt).Judge(); v.Public != tc.public {
			t.Errorf("%s: public = %v, want %v (%s)", tc.name, v.Public, tc.public, v.Reason)
		}
	}
	for _, tc := range []struct {
		name, stmt string
		denies     bool
	}{
		{"NotAction leaving only GetObject", `{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"*"}`, true},
		{"NotResource objects only", `{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::acme-data/*"}`, true},
		{"NotResource every bucket", `{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::*"}`, false},
		{"IfExists on an absent VPC key holds", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + reviewRes + `,"Condition":{"StringNotEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}}`, true},
		{"Null false on an absent VPC key", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + reviewRes + `,"Condition":{"Null":{"aws:SourceVpce":"false"}}}`, false},
		{"upper-case action", `{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"S3:GETBUCKETTAGGING",` + reviewRes + `}`, true},
		{"both roles exempted", `{"Effect":"Deny","Principal":"*","Action":"s3:*",` + reviewRes + `,"Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/BucketGuard-*"}}}`, false},
	} {
		if got := deniedActions(t, twoRoles, tc.stmt); (len(got) > 0) != tc.denies {
			t.Errorf("%s: denied %v, want denies=%v", tc.name, got, tc.denies)
		}
	}
}

// FuzzDeniesTo: DeniesTo and the access point judge on any document
// that parses must not panic (run with -fuzz; the seeds run as a test).
func FuzzDeniesTo(f *testing.F) {
	f.Add([]byte(`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:sts::111122223333:assumed-role/x/y"]},"NotAction":"s3:Get*","NotResource":"arn:aws:s3:::acme-data/*","Condition":{"ForAllValues:StringNotLikeIfExists":{"aws:PrincipalArn":"*"},"Null":{"aws:SourceVpce":"true"}}}]}`))
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:saml-provider/"},"Action":"*","Condition":{"IpAddress":{"aws:SourceIp":["::ffff:0:0/95","1.2.3.4","1::/32","fe80::1%eth0"]},"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:::accesspoint/"}}}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := policy.Parse(doc)
		if err != nil {
			return
		}
		_ = d.DeniesTo(twoRoles)
		_ = d.DeniesTo(policy.Caller{RoleARNs: []string{"x", "arn:aws:iam::1:role"}, Resource: "arn:aws:s3:::b"})
		_ = policy.Judge(d.ForAccessPoint())
	})
}
