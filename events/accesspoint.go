package events

import (
	"encoding/json"
	"regexp"
	"strings"
)

// The S3 Control calls are logged with their path parameters by name
// (name, resourceArn, tagKeys) and their XML body under the request's shape
// name (CreateAccessPointRequest, TagResourceRequest, ...), as CloudTrail
// converts XML bodies; the helpers below look for a field at any depth of
// requestParameters rather than at one guessed path.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateAccessPoint.html

// accessPointNameRE is S3's rule for access point names: 3 to 50 lowercase
// letters, digits and hyphens. Multi-Region Access Point names allow the
// same characters.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-restrictions-limitations-naming-rules.html
var accessPointNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// accessPointChange reads the access point an access point event is about,
// and, when the event says, its bucket.
func accessPointChange(c Change, scope Scope, params map[string]json.RawMessage, resources []resource) (Change, error) {
	name := ""
	for _, k := range []string{"name", "Name"} {
		if v, ok := find(params, k, 3).(string); ok && v != "" {
			name = v
			break
		}
	}
	if name == "" {
		for _, r := range resources {
			if n, ok := accessPointFromARN(r.ARN); ok {
				name = n
				break
			}
		}
	}
	if !accessPointNameRE.MatchString(name) {
		return Change{}, malformed("%s names no valid access point (%q)", c.Name, name)
	}
	c.AccessPoint = &AccessPoint{Scope: scope, Name: name}
	if scope == AccessPointScope {
		if b, ok := find(params, "Bucket", 3).(string); ok && b != "" {
			if !ValidBucketName(b) {
				return Change{}, malformed("bucket name %q is not a valid S3 bucket name", b)
			}
			c.Bucket = b
		}
	}
	return c, nil
}

// accessPointFromARN reads arn:<partition>:s3:<region>:<account>:accesspoint/<name>
// (and the Object Lambda and Multi-Region forms).
func accessPointFromARN(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[2], "s3") {
		return "", false
	}
	name, ok := strings.CutPrefix(parts[5], "accesspoint/")
	if !ok || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// tagResourceChange reads a TagResource or UntagResource call. Only a
// general purpose bucket's tags matter to bucketguard; any other resource
// (an access point, a Storage Lens group) leaves Bucket empty, which
// SkipReason reports.
func tagResourceChange(c Change, params map[string]json.RawMessage) (Change, error) {
	for _, k := range []string{"resourceArn", "ResourceArn", "resourceARN"} {
		if v, ok := find(params, k, 2).(string); ok && v != "" {
			c.Resource = v
			break
		}
	}
	if c.Resource == "" {
		return Change{}, malformed("%s names no resource ARN", c.Name)
	}
	if b, ok := bucketFromARN(c.Resource); ok {
		c.Bucket = b
	}
	switch c.Name {
	case TagResource:
		c.RequestTags = tagList(find(params, "Tag", 4))
		if c.RequestTags == nil {
			c.RequestTags = tagList(find(params, "Tags", 3))
		}
	case UntagResource:
		c.RemovedTags = stringsOf(find(params, "tagKeys", 2))
	}
	return c, nil
}

// find returns the value of the first field named key, searching
// requestParameters breadth first down to depth levels.
func find(params map[string]json.RawMessage, key string, depth int) any {
	level := []map[string]json.RawMessage{params}
	for d := 0; d < depth && len(level) > 0; d++ {
		var next []map[string]json.RawMessage
		for _, m := range level {
			if raw, ok := m[key]; ok {
				var v any
				if json.Unmarshal(raw, &v) == nil {
					return v
				}
			}
			for _, raw := range m {
				var sub map[string]json.RawMessage
				if json.Unmarshal(raw, &sub) == nil {
					next = append(next, sub)
				}
			}
		}
		level = next
	}
	return nil
}

// tagList reads {"Key":..,"Value":..} as one tag or a list of them; nil when
// the shape is anything else.
func tagList(v any) map[string]string {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		items = []any{x}
	default:
		return nil
	}
	out := map[string]string{}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil
		}
		k, _ := m["Key"].(string)
		val, _ := m["Value"].(string)
		if k == "" {
			return nil
		}
		out[k] = val
	}
	return out
}

// stringsOf reads a string or a list of strings.
func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		return strings.Split(x, ",")
	case []any:
		var out []string
		for _, it := range x {
			if s, ok := it.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
