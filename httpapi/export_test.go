package httpapi

import "github.com/keel-dev/keel"

// RouteInfo is a registered route, for the tests that compare the route
// table with the OpenAPI document.
type RouteInfo struct{ Method, Path string }

// Routes lists the API operations New(svc, cfg) registers (not the
// document and docs page themselves).
func Routes(svc *keel.Service, cfg Config) []RouteInfo {
	var out []RouteInfo
	for _, rt := range newAPI(svc, cfg).routes {
		if !rt.doc.hidden {
			out = append(out, RouteInfo{rt.method, rt.path})
		}
	}
	return out
}

// DocsContentSecurityPolicy is the policy the docs page must carry.
const DocsContentSecurityPolicy = docsContentSecurityPolicy
