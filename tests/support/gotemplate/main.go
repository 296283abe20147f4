// Renders Go text/template strings the way Argo CD's ApplicationSet controller does with
// goTemplate: true (standard library only, so it builds offline with Debian's golang-go).
//
// stdin:  {"options": ["missingkey=error"], "templates": {"key": "{{ .name }}"}, "data": {...}}
// stdout: {"key": "rendered"}; on any template error: the error on stderr and exit status 1.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"
)

type request struct {
	Options   []string          `json:"options"`
	Templates map[string]string `json:"templates"`
	Data      map[string]any    `json:"data"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "reading request:", err)
		os.Exit(2)
	}
	rendered := map[string]string{}
	for key, text := range req.Templates {
		tmpl, err := template.New(key).Option(req.Options...).Parse(text)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", key, err)
			os.Exit(1)
		}
		var out bytes.Buffer
		if err := tmpl.Execute(&out, req.Data); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", key, err)
			os.Exit(1)
		}
		rendered[key] = out.String()
	}
	if err := json.NewEncoder(os.Stdout).Encode(rendered); err != nil {
		fmt.Fprintln(os.Stderr, "writing result:", err)
		os.Exit(2)
	}
}
