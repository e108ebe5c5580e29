package httpapi

import "github.com/keel-dev/keel"

// RouteInfo is a registered route, for the tests that compare the route
// table with the OpenAPI document and try every route.
type RouteInfo struct {
	Method, Path string
	Public       bool // no credentials needed
}

// Routes lists the API operations New(svc, cfg) registers (not the
// document and docs page themselves).
func Routes(svc *keel.Service, cfg Config) []RouteInfo {
	var out []RouteInfo
	for _, rt := range newAPI(svc, cfg).routes {
		if !rt.doc.hidden {
			out = append(out, RouteInfo{Method: rt.method, Path: rt.path, Public: rt.access == public})
		}
	}
	return out
}

// DocsContentSecurityPolicy is the policy the docs page must carry.
const DocsContentSecurityPolicy = docsContentSecurityPolicy
