// GraphiQL on this server's /graphql: queries and mutations over HTTP,
// subscriptions over a WebSocket (graphql-ws, bundled in graphiql.min.js).
(function () {
  var ws = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({
    url: '/graphql',
    subscriptionUrl: ws + '//' + window.location.host + '/graphql',
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: JSON.stringify({ Authorization: 'Bearer <token>' }, null, 2),
      defaultEditorToolsVisibility: 'headers',
      defaultQuery: '# Sign in with login (or register) for a token, then put it in Headers:\n' +
        '# mutation { login(input: {email: "you@example.com", password: "…"}) { token } }\n' +
        '{\n  me {\n    user { id email }\n    organization { name }\n    role\n  }\n}\n',
    })
  );
})();
