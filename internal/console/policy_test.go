package console

import "testing"

func TestSummarizePolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		doc      string
		identity bool
		want     policySummary
	}{
		{"none", "", false, policySummary{}},
		{"public read", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, false,
			policySummary{Present: true, Statements: 1, Allow: 1, Public: true}},
		{"pinned to a network is not public", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}]}`, false,
			policySummary{Present: true, Statements: 2, Allow: 1, Deny: 1}},
		{"a condition open to every address is public", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}`, false,
			policySummary{Present: true, Statements: 1, Allow: 1, Public: true}},
		{"identity policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`, true,
			policySummary{Present: true, Statements: 2, Allow: 1, Deny: 1}},
		{"damaged", `{"Statement":`, false, policySummary{Present: true, Invalid: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc []byte
			if tc.doc != "" {
				doc = []byte(tc.doc)
			}
			if got := summarizePolicy(doc, tc.identity); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
