#!/usr/bin/env python3
# Instructions per request of one junction build, counted by callgrind (repeatable whatever
# else the machine does): python3 benches/support/instructions.py <label> <path to a release
# junction> <free port>; N requests per kind (default 2000). Results: benches/HISTORY.md.
import http.client, json, os, subprocess, sys, time, glob, re
side, binary, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
N = int(os.environ.get("N", "2000"))
d = f"/tmp/cg_{side}"; subprocess.run(["rm", "-rf", d]); os.makedirs(d)
env = dict(os.environ, BIND=f"127.0.0.1:{port}", RUST_LOG="warn")
p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.out", binary, "serve"],
                     cwd=d, env=env, stdout=open(f"{d}/log", "w"), stderr=subprocess.STDOUT)
def conn(): return http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(600):
    try:
        c = conn(); c.request("GET", "/healthz"); c.getresponse().read(); break
    except Exception: time.sleep(0.5)
c = conn()
def gql(q, token=None):
    h = {"content-type": "application/json"}
    if token: h["authorization"] = "Bearer " + token
    c.request("POST", "/graphql", json.dumps({"query": q}), h); return json.loads(c.getresponse().read())
tok = gql('mutation { register(input: {email: "cg@example.com", name: "C", password: "correct horse battery", organizationName: "O"}) { token } }')["data"]["register"]["token"]
def healthz():
    c.request("GET", "/healthz"); c.getresponse().read()
def typename(): gql("{ __typename }", tok)
def measure(name, f):
    for _ in range(200): f()
    subprocess.run(["callgrind_control", "-z", str(p.pid)], capture_output=True)
    for _ in range(N): f()
    subprocess.run(["callgrind_control", "-d", str(p.pid)], capture_output=True)
    time.sleep(1)
    files = sorted(glob.glob(f"{d}/cg.out*"), key=os.path.getmtime)
    text = open(files[-1]).read()
    m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    print(f"{side} {name}: {int(m.group(1))/N:,.0f} instructions per request ({files[-1]})", flush=True)
project = gql('mutation { createProject(input: {name: "P"}) { id } }', tok)["data"]["createProject"]["id"]
lst = gql('mutation { createTodoList(projectId: "%s", title: "L") { id } }' % project, tok)["data"]["createTodoList"]["id"]
for i in range(20):
    gql('mutation { createTodo(input: {todoListId: "%s", title: "t%d"}) { id } }' % (lst, i), tok)
READ = '{ project(id: "%s") { todos(first: 20) { edges { node { id title done assignees { id name } } } } } }' % project
def read(): gql(READ, tok)
n = [0]
def create():
    n[0] += 1
    gql('mutation { createTodo(input: {todoListId: "%s", title: "c%d"}) { id title } }' % (lst, n[0]), tok)
measure("GET /healthz", healthz)
measure("{ __typename }", typename)
measure("read 20 todos", read)
measure("createTodo", create)
p.terminate(); p.wait()
