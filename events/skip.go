package events

import (
	"fmt"
	"strings"
)

// Role is bucketguard's own IAM role. Its changes are never evaluated again:
// the remediator must not react to itself.
type Role struct {
	ARN       string
	Partition string
	Account   string
	Name      string
	// Sessions, when set, are the only session names of the role that are
	// bucketguard's: its functions' names, which Lambda gives the sessions
	// of their execution roles. Anyone who can pass the role to a function
	// of their own (iam:PassRole) gets a session of it too, named after
	// their function, and is not skipped.
	Sessions []string
}

// Pinned returns the roles with their sessions pinned to the given names
// (empty names are ignored; none leaves the roles as they are).
func Pinned(roles []Role, names ...string) []Role {
	var keep []string
	for _, n := range names {
		if n != "" {
			keep = append(keep, n)
		}
	}
	if len(keep) == 0 {
		return roles
	}
	out := make([]Role, len(roles))
	for i, r := range roles {
		r.Sessions = keep
		out[i] = r
	}
	return out
}

// ParseRole reads a role ARN (arn:aws:iam::111122223333:role/path/name) or an
// assumed-role session ARN (arn:aws:sts::111122223333:assumed-role/name/session).
// An empty string gives the zero Role, which matches no actor.
func ParseRole(arn string) (Role, error) {
	if arn == "" {
		return Role{}, nil
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[3] != "" || !accountRE.MatchString(parts[4]) {
		return Role{}, fmt.Errorf("%q is not an IAM role ARN", arn)
	}
	r := Role{ARN: arn, Partition: parts[1], Account: parts[4]}
	res := parts[5]
	switch {
	case parts[2] == "iam" && strings.HasPrefix(res, "role/"):
		segs := strings.Split(strings.TrimPrefix(res, "role/"), "/")
		r.Name = segs[len(segs)-1]
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		segs := strings.Split(strings.TrimPrefix(res, "assumed-role/"), "/")
		r.Name = segs[0]
		r.ARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", r.Partition, r.Account, r.Name)
	default:
		return Role{}, fmt.Errorf("%q is not an IAM role ARN", arn)
	}
	if r.Name == "" {
		return Role{}, fmt.Errorf("%q has no role name", arn)
	}
	return r, nil
}

// Made reports whether the actor is this role: the role itself, or a
// session of it (one of Sessions, when they are pinned). A session ARN drops
// the role's path, so sessions are matched by partition, account and name.
func (r Role) Made(a Actor) bool {
	if r.Name == "" {
		return false
	}
	session := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/", r.Partition, r.Account, r.Name)
	if len(r.Sessions) > 0 {
		if len(a.ARN) <= len(session) || !strings.EqualFold(a.ARN[:len(session)], session) {
			return false
		}
		name := a.ARN[len(session):]
		for _, s := range r.Sessions {
			if name == s {
				return true
			}
		}
		return false
	}
	if a.IssuerARN != "" && strings.EqualFold(a.IssuerARN, r.ARN) {
		return true
	}
	if strings.EqualFold(a.ARN, r.ARN) {
		return true
	}
	return len(a.ARN) > len(session) && strings.EqualFold(a.ARN[:len(session)], session)
}

// ParseRoles reads a comma-separated list of role ARNs (bucketguard's
// functions each have a role of their own).
func ParseRoles(arns string) ([]Role, error) {
	var out []Role
	for _, a := range strings.Split(arns, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		r, err := ParseRole(a)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SkipReason says why a change needs no evaluation, or "" when it does. The
// reasons are: the call failed, it was not S3, the name is not watched, or
// one of bucketguard's own roles made it.
func (c Change) SkipReason(self ...Role) string {
	switch {
	case c.ErrorCode != "":
		return fmt.Sprintf("call failed with %s: nothing changed", c.ErrorCode)
	case c.Source != EventSource:
		return fmt.Sprintf("event source %s is not %s", c.Source, EventSource)
	case !c.Name.IsWatched():
		return fmt.Sprintf("event name %s is not watched", c.Name)
	case (c.Name == TagResource || c.Name == UntagResource) && c.Bucket == "":
		return fmt.Sprintf("%s on %s, not a general purpose bucket", c.Name, c.Resource)
	}
	for _, r := range self {
		if r.Made(c.Actor) {
			return "change made by bucketguard's own role"
		}
	}
	return ""
}
