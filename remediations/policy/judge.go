package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

// Verdict is the judgement of one statement.
type Verdict struct {
	Public bool
	// Read and Write say what the public can do through the statement; both
	// are false when it is not public. Write includes deletes and changes to
	// ACLs and policies.
	Read   bool
	Write  bool
	Reason string
}

// StatementReport is the verdict of one statement, with its place.
type StatementReport struct {
	Index int
	Sid   string
	Verdict
}

// Report is the judgement of a whole policy.
type Report struct {
	Public      bool
	PublicRead  bool
	PublicWrite bool
	Statements  []StatementReport
}

// ForAccessPoint marks the document as an access point's policy and returns
// it. The rules of "public" are the same as for a bucket policy but one: an
// access point policy that grants access to a set of access points with
// s3:DataAccessPointArn is public (in a bucket policy, a fixed account with
// any access point name is not). A VPC network origin, which makes an
// access point non-public whatever its policy, is the planner's to weigh.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
func (d *Document) ForAccessPoint() *Document {
	for i := range d.Statements {
		d.Statements[i].accessPoint = true
	}
	return d
}

// Judge judges every statement of the document.
func Judge(d *Document) Report {
	var r Report
	for _, s := range d.Statements {
		v := s.Judge()
		r.Statements = append(r.Statements, StatementReport{Index: s.Index, Sid: s.Sid, Verdict: v})
		r.Public = r.Public || v.Public
		r.PublicRead = r.PublicRead || v.Read
		r.PublicWrite = r.PublicWrite || v.Write
	}
	return r
}

// pinKeys are the condition keys that, pinned to fixed values, keep a
// statement with an open principal non-public. From "The meaning of public"
// (S3 User Guide, Blocking public access): aws:SourceIp (as a bounded CIDR
// set), aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner,
// aws:SourceAccount, s3:x-amz-server-side-encryption-aws-kms-key-id,
// aws:userid outside the pattern "AROLEID:*", s3:DataAccessPointArn and
// s3:DataAccessPointAccount; and "an AWS principal, user, role, or service
// principal (e.g. aws:PrincipalOrgID)", which aws:PrincipalAccount and
// aws:PrincipalArn name as directly as aws:PrincipalOrgID does. Condition key
// names are case-insensitive.
var pinKeys = map[string]bool{
	"aws:sourceip":         true,
	"aws:sourcearn":        true,
	"aws:sourcevpc":        true,
	"aws:sourcevpce":       true,
	"aws:sourceowner":      true,
	"aws:sourceaccount":    true,
	"aws:userid":           true,
	"aws:principalorgid":   true,
	"aws:principalaccount": true,
	"aws:principalarn":     true,
	"s3:x-amz-server-side-encryption-aws-kms-key-id": true,
	"s3:dataaccesspointarn":                          true,
	"s3:dataaccesspointaccount":                      true,
}

// Judge judges one statement by "The meaning of public": S3 starts from
// public and calls a statement non-public only when it grants access to fixed
// values (no wildcard, no policy variable) of a principal or of one of the
// listed condition keys. Deny statements grant nothing.
func (s Statement) Judge() Verdict {
	if !strings.EqualFold(s.Effect, "Allow") {
		if strings.EqualFold(s.Effect, "Deny") {
			return Verdict{Reason: "Deny statements never grant access"}
		}
		return Verdict{Reason: fmt.Sprintf("Effect %q grants nothing", s.Effect)}
	}
	open := s.openPrincipal()
	if open == "" {
		return Verdict{Reason: "grants access only to fixed principals"}
	}
	pin, stricter := s.pinningCondition()
	if pin != "" {
		return Verdict{Reason: fmt.Sprintf("%s, but %s", open, pin)}
	}
	read, write := s.access()
	reason := fmt.Sprintf("%s and no condition pins a source, network or principal key to fixed values; grants public %s", open, accessWord(read, write))
	if stricter != "" {
		reason += "; bucketguard is stricter than AWS here: " + stricter
	}
	return Verdict{Public: true, Read: read, Write: write, Reason: reason}
}

func accessWord(read, write bool) string {
	switch {
	case read && write:
		return "read and write"
	case write:
		return "write"
	case read:
		return "read"
	}
	return "access to no S3 action"
}

// openPrincipal describes why the statement's principal is not fixed, or
// returns "" when it is.
func (s Statement) openPrincipal() string {
	if s.NotPrincipal != nil {
		return "NotPrincipal grants everyone not listed"
	}
	p := s.Principal
	if p == nil {
		return ""
	}
	if p.Star {
		return `Principal "*" is everyone`
	}
	types := make([]string, 0, len(p.Values))
	for t := range p.Values {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		for _, v := range p.Values[t] {
			if v == "*" {
				return fmt.Sprintf(`Principal {"%s": "*"} is everyone`, t)
			}
			if !fixed(v) {
				return fmt.Sprintf("principal %s %q is not a fixed value", t, v)
			}
		}
		if t != "Federated" {
			continue
		}
		for _, v := range p.Values[t] {
			if !providerARN(v) {
				// Web identity federation admits anyone with an account
				// at the provider: AWS's own example of a public policy
				// is Federated graph.facebook.com.
				return fmt.Sprintf("Federated principal %q admits anyone the provider signs in", v)
			}
		}
	}
	return ""
}

// providerARN reports whether a Federated value is an IAM identity provider
// of an account (arn:aws:iam::111122223333:saml-provider/Okta,
// arn:aws:iam::111122223333:oidc-provider/oidc.example.com): a fixed
// principal, as a role is, and unlike a web identity provider's bare host
// name (cognito-identity.amazonaws.com, accounts.google.com,
// graph.facebook.com, www.amazon.com), which admits everyone it signs in.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
func providerARN(v string) bool {
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "iam" || parts[3] != "" {
		return false
	}
	if len(parts[4]) != 12 || strings.Trim(parts[4], "0123456789") != "" || !fixed(parts[5]) {
		return false
	}
	name, ok := strings.CutPrefix(parts[5], "saml-provider/")
	if !ok {
		name, ok = strings.CutPrefix(parts[5], "oidc-provider/")
	}
	return ok && name != ""
}

// fixed reports whether a value is fixed: no wildcard and no policy variable.
func fixed(v string) bool {
	return v != "" && !strings.ContainsAny(v, "*?") && !strings.Contains(v, "${")
}

// pinningCondition returns a description of the first condition that pins a
// listed key to fixed values, or "", and, when a condition would pin by AWS's
// letter but bucketguard judges it open, why.
func (s Statement) pinningCondition() (pin, stricter string) {
	for _, c := range s.Conditions {
		ok, why := c.pins(s.accessPoint)
		if ok {
			return fmt.Sprintf("%s %s pins it to %s", c.Operator, c.Key, strings.Join(c.Values, ", ")), ""
		}
		if why != "" && stricter == "" {
			stricter = why
		}
	}
	return "", stricter
}

// pins reports whether this condition restricts the statement to fixed
// values of a listed key. Conditions in a statement are ANDed, so one such
// condition is enough. It does not pin when:
//   - the operator ends in IfExists: a request without the key passes;
//   - the operator is ForAllValues: a request without the key passes;
//   - the operator is a negation (StringNotEquals, NotIpAddress, ...) or Null;
//   - any value has a wildcard or a policy variable.
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//
// Two cases pin by AWS's letter but not by bucketguard's, which says why
// (the second result): aws:SourceIp values that each pass the /8 rule but
// together cover more than a /8 of public IPv4 space (or a /32 of IPv6), and
// aws:userid "anonymous", the value anonymous callers carry. In an access
// point policy, s3:DataAccessPointArn and s3:DataAccessPointAccount never
// pin (accessPoint).
func (c Condition) pins(accessPoint bool) (bool, string) {
	key := strings.ToLower(c.Key)
	if !pinKeys[key] || len(c.Values) == 0 {
		return false, ""
	}
	if accessPoint && (key == "s3:dataaccesspointarn" || key == "s3:dataaccesspointaccount") {
		// In an access point policy both name a set of access points, and
		// every request through the access point carries its own ARN and
		// account: "considered public" (AWS names s3:DataAccessPointArn;
		// the account key is the same set, named more widely).
		return false, ""
	}
	op := c.Operator
	if strings.HasPrefix(op, "ForAllValues:") || strings.HasSuffix(op, "IfExists") {
		return false, ""
	}
	op = strings.TrimPrefix(op, "ForAnyValue:")
	if key == "aws:sourceip" {
		if op != "IpAddress" {
			return false, ""
		}
		for _, v := range c.Values {
			if !boundedCIDR(v) {
				return false, ""
			}
		}
		if why := tooWide(c.Values); why != "" {
			return false, why
		}
		return true, ""
	}
	switch op {
	case "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike":
	default:
		return false, ""
	}
	for _, v := range c.Values {
		switch {
		case key == "aws:userid" && strings.EqualFold(v, "anonymous"):
			// Anonymous S3 callers carry aws:userid "anonymous": a
			// "fixed value" that admits everyone.
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable
			return false, `aws:userid "anonymous" is the value every anonymous caller carries, so it admits everyone`
		case key == "aws:userid" && roleSessionPattern.MatchString(v):
			// "AROLEID:*": every session of one role, a fixed principal.
		case key == "s3:dataaccesspointarn" && accessPointPattern(v):
		case !fixed(v):
			return false, ""
		}
	}
	return true, ""
}

var roleSessionPattern = regexp.MustCompile(`^[A-Za-z0-9]+:\*$`)

// accessPointPattern accepts an access point ARN whose only wildcards are in
// the access point name: "a wildcard for the access point name without
// rendering the policy public, as long as the account id is fixed".
func accessPointPattern(v string) bool {
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "s3" || !strings.HasPrefix(parts[5], "accesspoint/") {
		return false
	}
	for _, p := range parts[1:5] {
		if !fixed(p) {
			return false
		}
	}
	return !strings.Contains(parts[5], "${")
}

// boundedCIDR reports whether an aws:SourceIp value is narrow enough not to be
// public: "values broader than /8 for IPv4 and /32 for IPv6 (excluding
// RFC1918 private ranges)" are public. A bare address is a /32 or /128.
func boundedCIDR(v string) bool {
	v = strings.TrimSpace(v)
	var pfx netip.Prefix
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return false
		}
		pfx = p.Masked()
	} else {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	addr := pfx.Addr()
	if addr.Is4() || addr.Is4In6() {
		if addr.Is4In6() {
			if pfx.Bits() < 96 {
				return false
			}
			pfx = netip.PrefixFrom(addr.Unmap(), pfx.Bits()-96)
		}
		for _, private := range rfc1918 {
			if private.Bits() <= pfx.Bits() && private.Contains(pfx.Addr()) {
				return true
			}
		}
		return pfx.Bits() >= 8
	}
	return pfx.Bits() >= 32
}

var rfc1918 = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

func sortConditions(cs []Condition) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Operator != cs[j].Operator {
			return cs[i].Operator < cs[j].Operator
		}
		return cs[i].Key < cs[j].Key
	})
}
