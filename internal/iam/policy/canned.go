package policy

// Canned identity policies, as MinIO defines them.
var cannedDocs = map[string]string{
	"readonly":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetObject"],"Resource":["arn:aws:s3:::*"]}]}`,
	"writeonly": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::*"]}]}`,
	"readwrite": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}`,
}

var canned = map[string]*Policy{}

func init() {
	for name, doc := range cannedDocs {
		p, err := ParseIdentity([]byte(doc))
		if err != nil {
			panic("policy: canned policy " + name + ": " + err.Error())
		}
		canned[name] = p
	}
}

// Canned returns the canned identity policy "readonly" (s3:GetBucketLocation
// and s3:GetObject on every resource), "writeonly" (s3:PutObject) or
// "readwrite" (s3:*). The returned policy is shared and immutable.
func Canned(name string) (*Policy, bool) {
	p, ok := canned[name]
	return p, ok
}

// CannedNames lists the canned policy names.
func CannedNames() []string { return []string{"readonly", "readwrite", "writeonly"} }
