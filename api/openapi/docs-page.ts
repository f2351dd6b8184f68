/**
 * The /docs page: plain HTML, one inline style and one inline script (allowed by hash in the
 * page's CSP). It reads /openapi.json and renders every operation with its parameters, body
 * schema, responses and problem types, plus a "try it" form that sends real requests with the
 * token you paste (kept in memory only) and an Idempotency-Key when the operation takes one.
 */

export const DOCS_STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#222;color:#fff;padding:12px 24px}header h1{margin:0;font-size:20px}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
.auth{background:#fff;border:1px solid #ddd;padding:8px 12px;margin:12px 0;display:flex;gap:8px;align-items:center}
.auth input{flex:1;font-family:monospace}
details.op{background:#fff;border:1px solid #ddd;margin:6px 0;border-radius:4px}
details.op>summary{cursor:pointer;padding:8px 12px;font-family:monospace}
.m{display:inline-block;min-width:52px;font-weight:bold;text-transform:uppercase}
.get{color:#0a6}.post{color:#06c}.put{color:#a60}
.body{padding:0 12px 12px}pre{background:#f3f3f3;padding:8px;overflow:auto;max-height:320px;font-size:12px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
textarea{width:100%;height:110px;font-family:monospace}.try input{font-family:monospace}
.desc{white-space:pre-wrap}
`;

export const DOCS_SCRIPT = `
(function () {
  var token = '';
  var el = function (tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') n.textContent = attrs[k]; else n.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { if (c) n.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return n;
  };
  var json = function (v) { return JSON.stringify(v, null, 2); };
  var example = function (s) {
    if (!s) return null;
    if (s.default !== undefined) return s.default;
    if (s.example !== undefined) return s.example;
    if (s.enum) return s.enum[0];
    if (s.anyOf) return example(s.anyOf[0]);
    if (s.type === 'object') { var o = {}; Object.keys(s.properties || {}).forEach(function (k) { if ((s.required || []).indexOf(k) >= 0) o[k] = example(s.properties[k]); }); return o; }
    if (s.type === 'array') return s.items ? [example(s.items)] : [];
    if (s.type === 'integer' || s.type === 'number') return s.minimum || 0;
    if (s.type === 'boolean') return false;
    if (s.format === 'email') return 'you@example.com';
    return 'string';
  };
  function tryIt(path, method, op) {
    var box = el('div', { class: 'try' });
    var inputs = {};
    (op.parameters || []).forEach(function (p) {
      if (p.$ref || p.in === 'header') return;
      var i = el('input', { placeholder: p.name + ' (' + p.in + ')' });
      inputs[p.name] = { input: i, where: p.in };
      box.appendChild(el('div', {}, [el('label', { text: p.name + ' ' }), i]));
    });
    var idem = null;
    if ((op.parameters || []).some(function (p) { return p.$ref === '#/components/parameters/IdempotencyKey'; })) {
      idem = el('input', { placeholder: 'Idempotency-Key (optional)' });
      box.appendChild(el('div', {}, [el('label', { text: 'Idempotency-Key ' }), idem]));
    }
    var body = null;
    if (op.requestBody) {
      var schema = op.requestBody.content['application/json'].schema;
      body = el('textarea');
      body.value = json(example(schema));
      box.appendChild(body);
    }
    var out = el('pre', { text: '' });
    var send = el('button', { text: 'Send' });
    send.addEventListener('click', function () {
      var url = path, query = [];
      Object.keys(inputs).forEach(function (k) {
        var v = inputs[k].input.value;
        if (inputs[k].where === 'path') url = url.replace('{' + k + '}', encodeURIComponent(v));
        else if (v !== '') query.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
      });
      if (query.length) url += '?' + query.join('&');
      var headers = {};
      if (token) headers.Authorization = 'Bearer ' + token;
      if (idem && idem.value) headers['Idempotency-Key'] = idem.value;
      if (body) headers['Content-Type'] = 'application/json';
      out.textContent = '...';
      fetch(url, { method: method.toUpperCase(), headers: headers, body: body ? body.value : undefined }).then(function (r) {
        return r.text().then(function (t) {
          var shown = t; try { shown = json(JSON.parse(t)); } catch (e) {}
          var hs = []; r.headers.forEach(function (v, k) { hs.push(k + ': ' + v); });
          out.textContent = r.status + ' ' + r.statusText + '\\n' + hs.join('\\n') + '\\n\\n' + shown;
          try { var j = JSON.parse(t); if (j.accessToken) { token = j.accessToken; document.getElementById('token').value = token; } } catch (e) {}
        });
      }, function (e) { out.textContent = String(e); });
    });
    box.appendChild(send);
    box.appendChild(out);
    return box;
  }
  fetch('/openapi.json').then(function (r) { return r.json(); }).then(function (doc) {
    var main = document.getElementById('main');
    main.appendChild(el('p', { class: 'desc', text: doc.info.description }));
    var tokenInput = el('input', { id: 'token', placeholder: 'Access token (filled in by signup / login / refresh below; kept in this page only)' });
    tokenInput.addEventListener('input', function () { token = tokenInput.value.trim(); });
    main.appendChild(el('div', { class: 'auth' }, [el('strong', { text: 'Bearer ' }), tokenInput]));
    (doc.tags || []).forEach(function (tag) {
      main.appendChild(el('h2', { text: tag.name }));
      Object.keys(doc.paths).forEach(function (path) {
        Object.keys(doc.paths[path]).forEach(function (method) {
          var op = doc.paths[path][method];
          if (op.tags[0] !== tag.name) return;
          var params = el('table', {}, [el('tr', {}, [el('th', { text: 'parameter' }), el('th', { text: 'in' }), el('th', { text: 'schema' })])]);
          (op.parameters || []).forEach(function (p) {
            var ref = p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p;
            params.appendChild(el('tr', {}, [el('td', { text: ref.name + (ref.required ? ' *' : '') }), el('td', { text: ref.in }), el('td', {}, [el('code', { text: JSON.stringify(ref.schema) })])]));
          });
          var responses = el('table', {}, [el('tr', {}, [el('th', { text: 'status' }), el('th', { text: 'meaning' }), el('th', { text: 'headers' })])]);
          Object.keys(op.responses).forEach(function (status) {
            var r = op.responses[status];
            responses.appendChild(el('tr', {}, [el('td', { text: status }), el('td', { text: r.description }), el('td', { text: Object.keys(r.headers || {}).join(', ') })]));
          });
          var ok = Object.keys(op.responses).filter(function (s) { return /^2/.test(s); })[0];
          var okSchema = ok && op.responses[ok].content && op.responses[ok].content[Object.keys(op.responses[ok].content)[0]].schema;
          main.appendChild(el('details', { class: 'op' }, [
            el('summary', {}, [el('span', { class: 'm ' + method, text: method }), ' ' + path + '  — ' + op.summary + (op.security && op.security.length ? '  🔒' : '')]),
            el('div', { class: 'body' }, [
              op.description ? el('p', { class: 'desc', text: op.description }) : null,
              op['x-required-role'] ? el('p', { text: 'Role: ' + op['x-required-role'] }) : null,
              params,
              op.requestBody ? el('div', {}, [el('h4', { text: 'Request body (application/json)' }), el('pre', { text: json(op.requestBody.content['application/json'].schema) })]) : null,
              el('h4', { text: 'Responses' }), responses,
              okSchema ? el('pre', { text: json(okSchema) }) : null,
              el('h4', { text: 'Try it' }), tryIt(path, method, op),
            ]),
          ]));
        });
      });
    });
    main.appendChild(el('h2', { text: 'Problem types' }));
    var pt = el('table', {}, [el('tr', {}, [el('th', { text: 'type' }), el('th', { text: 'status' }), el('th', { text: 'title' })])]);
    doc['x-problem-types'].forEach(function (p) { pt.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: p.type })]), el('td', { text: String(p.status) }), el('td', { text: p.title })])); });
    main.appendChild(pt);
    main.appendChild(el('h2', { text: 'Headers' }));
    var ht = el('table', {}, []);
    Object.keys(doc.components.headers).forEach(function (h) { ht.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: h })]), el('td', { text: doc.components.headers[h].description })])); });
    Object.keys(doc.components.parameters).forEach(function (k) { var p = doc.components.parameters[k]; ht.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: p.name + ' (request)' })]), el('td', { text: p.description })])); });
    ht.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: 'Authorization (request)' })]), el('td', { text: doc.components.securitySchemes.bearerAuth.description })]));
    main.appendChild(ht);
  });
})();
`;

export function docsHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>closetflow API</title><style>${DOCS_STYLE}</style></head>
<body><header><h1>closetflow API</h1><a href="/openapi.json" style="color:#9cf">openapi.json</a></header>
<main id="main"><noscript>This page needs JavaScript; the raw document is at /openapi.json.</noscript></main>
<script>${DOCS_SCRIPT}</script></body></html>`;
}
