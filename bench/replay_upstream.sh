# Shared by the load benchmarks (load.sh, instructions.sh): a free loopback port, the recorded
# upstream stream, and nginx configurations that replay it as the upstream (and pass it through
# as the floor). Source it after setting $work, a directory nginx's workers can read.

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# The recorded stream: 64 answer deltas, usage, done, [DONE].
node bench/make_stream.js 64 >"$work/stream.sse"
jwt='eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjhmMzY4YzFiLWM2NDUtNDhjNy05NmIwLTI0NTZhY2M1MGI3OSIsImVtYWlsIjoiZ3Vlc3QtMTc4MjQxMzI0MTE0N0BndWVzdC5jb20ifQ.c2ln'

nginx_conf() {  # $1 dir, $2 workers, $3 server block
  mkdir -p "$1/logs"
  cat >"$1/nginx.conf" <<CONF
worker_processes $2;
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $1/body; proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;
  $3
}
CONF
  nginx -c "$1/nginx.conf" -p "$1"
}

# $1 port, $2 extra directives for the stream (the paced upstream adds a rate limit).
upstream_server() {
  echo "server {
    listen 127.0.0.1:$1;
    location = /api/v1/auths/ { default_type application/json; return 200 '{\"id\":\"8f368c1b-c645-48c7-96b0-2456acc50b79\",\"name\":\"Guest-1\",\"email\":\"guest-1@guest.com\",\"token\":\"$jwt\"}'; }
    location = /api/v2/chat/completions { error_page 405 =200 /stream.sse; return 405; }
    location = /stream.sse { internal; root $work; default_type text/event-stream; $2 }
    location = / { default_type text/html; return 200 '<script src=\"/frontend/prod-fe-1.1.98/assets/index-abc.js\"></script>'; }
  }"
}
