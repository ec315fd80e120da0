/** What a request to the API server is about, from its method and path (for error messages). */
export interface KubeRequestInfo {
  verb: string;
  group: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Parses `/api/v1/...` and `/apis/<group>/<version>/...` paths the way the API server's RequestInfo does. */
export function kubeRequestInfo(
  method: string,
  path: string,
  query?: Record<string, string | undefined>,
): KubeRequestInfo {
  const parts = path.split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  let rest: string[];
  let group = '';
  if (parts[0] === 'api') rest = parts.slice(2);
  else if (parts[0] === 'apis') {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else return { verb: method.toLowerCase(), group };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  const info: KubeRequestInfo = { verb: verbOf(method, name !== undefined, query), group };
  if (resource !== undefined) info.resource = resource;
  if (namespace !== undefined) info.namespace = namespace;
  if (name !== undefined) info.name = name;
  if (subresource !== undefined) info.subresource = subresource;
  return info;
}

function verbOf(method: string, named: boolean, query?: Record<string, string | undefined>): string {
  switch (method.toUpperCase()) {
    case 'GET':
      return named ? 'get' : query?.watch === 'true' || query?.watch === '1' ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}
