/*
 * fake_nvidia: a small FUSE file system that stands in for the NVIDIA driver's
 * per-VF sysfs files in tests (vendor-specific VFIO vGPUs). Test harness only;
 * never shipped, never installed.
 *
 * It passes every path through to a backing directory (the plain fake tree the
 * test built) except, for each VF named in the model, the two files
 *   <VF>/nvidia/current_vgpu_type      (read: decimal id, 0 = none; write: assign/release)
 *   <VF>/nvidia/creatable_vgpu_types   (read: the types creatable on this VF now)
 * which it computes from a model of each GPU's capacity, so that a write can be
 * refused as the driver would and the siblings' lists shrink and grow.
 *
 * Usage: fake_nvidia MODEL LOG BACKING MOUNTPOINT [FUSE options...]
 * MODEL is a text file, one statement per line (tests/helpers/fake_nvidia.ts
 * writes it from a JSON description):
 *   format plain|header|odd|blank
 *   gpu <PF> <capacity> <mixed 0|1>
 *   type <PF> <id> <size> <full name...>
 *   vf <PF> <VF> <current id>
 *   hostile <VF> <text...>        current_vgpu_type reads <text>; writes fail EIO
 *   race <VF> <other VF> <id>     before the first non-zero write to <VF>, <id>
 *                                 is assigned to <other VF> (someone else's write)
 *   busy <path>                   opening <path> (relative to the mount point,
 *                                 e.g. /devices/vfio3) for writing fails EBUSY:
 *                                 a VFIO device or group a VM holds open
 * LOG gets one line per write to a modelled file: `<VF> <value> ok|E<name>`
 * (and `race <VF> <id> ok|E<name>` for the race's own write).
 *
 * Errno choices (the real driver's are not documented; see README.md here):
 * EINVAL for a value that is not a type id creatable on this VF now (not a
 * number, unknown id, capacity exhausted, size mix refused), EBUSY for a
 * non-zero write to a VF that already holds a vGPU.
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX 64
#define NAMELEN 128
#define TEXTLEN 8192

struct vtype { long id; int size; char name[NAMELEN]; };
struct gpu { char pf[NAMELEN]; int capacity; int mixed; int ntypes; struct vtype types[MAX]; };
struct vf {
  char addr[NAMELEN];
  int gpu;
  long current;
  int hostile;
  char hostile_text[NAMELEN];
  int race;
  int race_target;
  long race_id;
};

static struct gpu gpus[MAX];
static int ngpus;
static struct vf vfs[MAX * 4];
static int nvfs;
static char format[16] = "plain";
static char busy[MAX][NAMELEN];
static int nbusy;
static char backing[PATH_MAX];
static FILE *logf;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int gpu_index(const char *pf) {
  for (int i = 0; i < ngpus; i++)
    if (strcmp(gpus[i].pf, pf) == 0) return i;
  return -1;
}

static int vf_index(const char *addr) {
  for (int i = 0; i < nvfs; i++)
    if (strcmp(vfs[i].addr, addr) == 0) return i;
  return -1;
}

static struct vtype *type_of(int g, long id) {
  for (int i = 0; i < gpus[g].ntypes; i++)
    if (gpus[g].types[i].id == id) return &gpus[g].types[i];
  return NULL;
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
}

static int load_model(const char *file) {
  FILE *f = fopen(file, "r");
  if (!f) { perror(file); return -1; }
  char line[512];
  while (fgets(line, sizeof line, f)) {
    trim(line);
    char a[NAMELEN], b[NAMELEN];
    long x, y;
    int n = 0;
    if (sscanf(line, "format %15s", format) == 1) continue;
    if (sscanf(line, "gpu %127s %ld %ld", a, &x, &y) == 3 && ngpus < MAX) {
      snprintf(gpus[ngpus].pf, NAMELEN, "%s", a);
      gpus[ngpus].capacity = (int)x;
      gpus[ngpus].mixed = (int)y;
      ngpus++;
    } else if (sscanf(line, "type %127s %ld %ld %n", a, &x, &y, &n) == 3 && n > 0) {
      int g = gpu_index(a);
      if (g < 0 || gpus[g].ntypes >= MAX) goto bad;
      struct vtype *t = &gpus[g].types[gpus[g].ntypes++];
      t->id = x;
      t->size = (int)y;
      snprintf(t->name, NAMELEN, "%s", line + n);
    } else if (sscanf(line, "vf %127s %127s %ld", a, b, &x) == 3 && nvfs < MAX * 4) {
      int g = gpu_index(a);
      if (g < 0) goto bad;
      memset(&vfs[nvfs], 0, sizeof vfs[nvfs]);
      snprintf(vfs[nvfs].addr, NAMELEN, "%s", b);
      vfs[nvfs].gpu = g;
      vfs[nvfs].current = x;
      nvfs++;
    } else if (sscanf(line, "hostile %127s %n", a, &n) == 1 && n > 0) {
      int v = vf_index(a);
      if (v < 0) goto bad;
      vfs[v].hostile = 1;
      snprintf(vfs[v].hostile_text, NAMELEN, "%s", line + n);
    } else if (sscanf(line, "race %127s %127s %ld", a, b, &x) == 3) {
      int v = vf_index(a), w = vf_index(b);
      if (v < 0 || w < 0) goto bad;
      vfs[v].race = 1;
      vfs[v].race_target = w;
      vfs[v].race_id = x;
    } else if (sscanf(line, "busy %127s", a) == 1 && nbusy < MAX) {
      snprintf(busy[nbusy++], NAMELEN, "%s", a);
    } else if (line[0] != 0 && line[0] != '#') {
      goto bad;
    }
    continue;
  bad:
    fprintf(stderr, "fake_nvidia: bad model line: %s\n", line);
    fclose(f);
    return -1;
  }
  fclose(f);
  return 0;
}

/* The size of the type held by GPU g's VFs (0: none), and the capacity used. */
static int used(int g, int *size_in_use) {
  int total = 0;
  *size_in_use = 0;
  for (int i = 0; i < nvfs; i++) {
    if (vfs[i].gpu != g || vfs[i].hostile || vfs[i].current == 0) continue;
    struct vtype *t = type_of(g, vfs[i].current);
    int s = t ? t->size : 0;
    total += s;
    if (s) *size_in_use = s;
  }
  return total;
}

/* Whether type t can be created on VF v now (a VF holds at most one vGPU). */
static int creatable(int v, const struct vtype *t) {
  if (vfs[v].hostile || vfs[v].current != 0) return 0;
  int g = vfs[v].gpu, size_in_use;
  int total = used(g, &size_in_use);
  if (total + t->size > gpus[g].capacity) return 0;
  if (!gpus[g].mixed && size_in_use != 0 && size_in_use != t->size) return 0;
  return 1;
}

static void render_creatable(int v, char *out, size_t cap) {
  size_t len = 0;
  struct gpu *g = &gpus[vfs[v].gpu];
  out[0] = 0;
  if (strcmp(format, "header") == 0) len += snprintf(out + len, cap - len, "ID : vGPU Name\n");
  if (strcmp(format, "blank") == 0) len += snprintf(out + len, cap - len, "\n");
  for (int i = 0; i < g->ntypes && len < cap; i++) {
    if (!creatable(v, &g->types[i])) continue;
    if (strcmp(format, "odd") == 0)
      len += snprintf(out + len, cap - len, "  %ld\t:   %s  \n", g->types[i].id, g->types[i].name);
    else
      len += snprintf(out + len, cap - len, "%ld : %s\n", g->types[i].id, g->types[i].name);
    if (strcmp(format, "blank") == 0 && len < cap) len += snprintf(out + len, cap - len, "\n");
  }
}

/* Assigns or releases; 0 or a negative errno. */
static int set_type(int v, const char *text) {
  if (vfs[v].hostile) return -EIO;
  char *end;
  errno = 0;
  long id = strtol(text, &end, 10);
  while (*end == '\n' || *end == ' ') end++;
  if (end == text || *end != 0 || errno != 0 || id < 0) return -EINVAL;
  if (id == 0) {
    vfs[v].current = 0;
    return 0;
  }
  if (vfs[v].current != 0) return -EBUSY;
  struct vtype *t = type_of(vfs[v].gpu, id);
  if (!t || !creatable(v, t)) return -EINVAL;
  vfs[v].current = id;
  return 0;
}

static const char *err_name(int e) {
  switch (e) {
  case 0: return "ok";
  case -EINVAL: return "EINVAL";
  case -EBUSY: return "EBUSY";
  case -EIO: return "EIO";
  default: return "E?";
  }
}

enum { NONE, CURRENT, CREATABLE };

/* Which modelled file a path is, and of which VF. */
static int modelled(const char *path, int *v) {
  const char *file = strrchr(path, '/');
  if (!file) return NONE;
  int kind = strcmp(file, "/current_vgpu_type") == 0     ? CURRENT
             : strcmp(file, "/creatable_vgpu_types") == 0 ? CREATABLE
                                                          : NONE;
  if (kind == NONE) return NONE;
  /* .../<VF>/nvidia/<file> */
  const char *nv = file - strlen("/nvidia");
  if (nv <= path || strncmp(nv, "/nvidia", 7) != 0) return NONE;
  const char *start = nv - 1;
  while (start > path && *start != '/') start--;
  if (*start == '/') start++;
  char addr[NAMELEN];
  size_t n = (size_t)(nv - start);
  if (n == 0 || n >= NAMELEN) return NONE;
  memcpy(addr, start, n);
  addr[n] = 0;
  *v = vf_index(addr);
  return *v < 0 ? NONE : kind;
}

static void real(char *out, const char *path) { snprintf(out, PATH_MAX, "%s%s", backing, path); }

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  char p[PATH_MAX];
  real(p, path);
  if (lstat(p, st) < 0) return -errno;
  int v;
  int kind = modelled(path, &v);
  if (kind != NONE) {
    /* Like sysfs: a fixed size, content produced on read. */
    st->st_size = 4096;
    st->st_mode = S_IFREG | (kind == CURRENT ? 0644 : 0444);
  }
  return 0;
}

static int fs_readlink(const char *path, char *buf, size_t size) {
  char p[PATH_MAX];
  real(p, path);
  ssize_t n = readlink(p, buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = 0;
  return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)off, (void)fi, (void)flags;
  char p[PATH_MAX];
  real(p, path);
  DIR *d = opendir(p);
  if (!d) return -errno;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) fill(buf, e->d_name, NULL, 0, 0);
  closedir(d);
  return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi) {
  int v;
  int kind = modelled(path, &v);
  fi->direct_io = 1;
  if (kind == CREATABLE && (fi->flags & O_ACCMODE) != O_RDONLY) return -EACCES;
  fi->fh = 0;
  if (kind != NONE) return 0;
  if ((fi->flags & O_ACCMODE) != O_RDONLY)
    for (int i = 0; i < nbusy; i++)
      if (strcmp(busy[i], path) == 0) return -EBUSY;
  char p[PATH_MAX];
  real(p, path);
  int fd = open(p, fi->flags & ~O_CREAT);
  if (fd < 0) return -errno;
  fi->fh = (uint64_t)fd;
  return 0;
}

/* A handle on a modelled file being created (a tree copied in by the fake
 * sriov-manage): its writes are the copy's, not a driver write; dropped. */
#define PLACEHOLDER ((uint64_t)-1)

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  int v;
  char p[PATH_MAX];
  real(p, path);
  if (modelled(path, &v) != NONE) {
    int fd = open(p, O_WRONLY | O_CREAT, mode);
    if (fd < 0) return -errno;
    close(fd);
    fi->fh = PLACEHOLDER;
    fi->direct_io = 1;
    return 0;
  }
  int fd = open(p, fi->flags | O_CREAT, mode);
  if (fd < 0) return -errno;
  fi->fh = (uint64_t)fd;
  fi->direct_io = 1;
  return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  int v;
  int kind = modelled(path, &v);
  if (kind == NONE) {
    ssize_t n = pread((int)fi->fh, buf, size, off);
    return n < 0 ? -errno : (int)n;
  }
  static char text[TEXTLEN];
  pthread_mutex_lock(&lock);
  if (kind == CURRENT) {
    if (vfs[v].hostile) snprintf(text, sizeof text, "%s\n", vfs[v].hostile_text);
    else snprintf(text, sizeof text, "%ld\n", vfs[v].current);
  } else {
    render_creatable(v, text, sizeof text);
  }
  size_t len = strlen(text);
  size_t n = 0;
  if ((size_t)off < len) {
    n = len - (size_t)off < size ? len - (size_t)off : size;
    memcpy(buf, text + off, n);
  }
  pthread_mutex_unlock(&lock);
  return (int)n;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  int v;
  int kind = modelled(path, &v);
  if (kind == NONE) {
    ssize_t n = pwrite((int)fi->fh, buf, size, off);
    return n < 0 ? -errno : (int)n;
  }
  if (fi->fh == PLACEHOLDER) return (int)size;
  if (kind == CREATABLE) return -EACCES;
  char text[64];
  size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
  memcpy(text, buf, n);
  text[n] = 0;
  pthread_mutex_lock(&lock);
  if (vfs[v].race && strtol(text, NULL, 10) != 0) {
    /* Someone else takes capacity between the program's last read and its write. */
    vfs[v].race = 0;
    char id[32];
    snprintf(id, sizeof id, "%ld", vfs[v].race_id);
    int r = set_type(vfs[v].race_target, id);
    fprintf(logf, "race %s %ld %s\n", vfs[vfs[v].race_target].addr, vfs[v].race_id, err_name(r));
  }
  int r = set_type(v, text);
  trim(text);
  fprintf(logf, "%s %s %s\n", vfs[v].addr, text, err_name(r));
  fflush(logf);
  pthread_mutex_unlock(&lock);
  return r < 0 ? r : (int)size;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  int v;
  if (modelled(path, &v) != NONE) return 0; /* sysfs ignores O_TRUNC */
  if (fi) return ftruncate((int)fi->fh, size) < 0 ? -errno : 0;
  char p[PATH_MAX];
  real(p, path);
  return truncate(p, size) < 0 ? -errno : 0;
}

static int fs_release(const char *path, struct fuse_file_info *fi) {
  int v;
  if (modelled(path, &v) == NONE) close((int)fi->fh);
  return 0;
}

static int fs_mkdir(const char *path, mode_t mode) {
  char p[PATH_MAX];
  real(p, path);
  return mkdir(p, mode) < 0 ? -errno : 0;
}

static int fs_unlink(const char *path) {
  char p[PATH_MAX];
  real(p, path);
  return unlink(p) < 0 ? -errno : 0;
}

static int fs_rmdir(const char *path) {
  char p[PATH_MAX];
  real(p, path);
  return rmdir(p) < 0 ? -errno : 0;
}

static int fs_symlink(const char *target, const char *path) {
  char p[PATH_MAX];
  real(p, path);
  return symlink(target, p) < 0 ? -errno : 0;
}

static int fs_rename(const char *from, const char *to, unsigned int flags) {
  if (flags) return -EINVAL;
  char a[PATH_MAX], b[PATH_MAX];
  real(a, from);
  real(b, to);
  return rename(a, b) < 0 ? -errno : 0;
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  (void)fi;
  int v;
  if (modelled(path, &v) != NONE) return 0;
  char p[PATH_MAX];
  real(p, path);
  return chmod(p, mode) < 0 ? -errno : 0;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  (void)fi;
  int v;
  if (modelled(path, &v) != NONE) return 0;
  char p[PATH_MAX];
  real(p, path);
  return lchown(p, uid, gid) < 0 ? -errno : 0;
}

static int fs_utimens(const char *path, const struct timespec ts[2], struct fuse_file_info *fi) {
  (void)fi;
  char p[PATH_MAX];
  real(p, path);
  return utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  /* Nothing cached: the tree changes under the program (other writers, new VFs). */
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  return NULL;
}

static const struct fuse_operations ops = {
    .init = fs_init,
    .getattr = fs_getattr,
    .readlink = fs_readlink,
    .readdir = fs_readdir,
    .open = fs_open,
    .create = fs_create,
    .read = fs_read,
    .write = fs_write,
    .truncate = fs_truncate,
    .release = fs_release,
    .mkdir = fs_mkdir,
    .unlink = fs_unlink,
    .rmdir = fs_rmdir,
    .symlink = fs_symlink,
    .rename = fs_rename,
    .chmod = fs_chmod,
    .chown = fs_chown,
    .utimens = fs_utimens,
};

int main(int argc, char *argv[]) {
  if (argc < 5) {
    fprintf(stderr, "usage: fake_nvidia MODEL LOG BACKING MOUNTPOINT [FUSE options...]\n");
    return 2;
  }
  if (load_model(argv[1]) < 0) return 2;
  logf = fopen(argv[2], "a");
  if (!logf) { perror(argv[2]); return 2; }
  if (!realpath(argv[3], backing)) { perror(argv[3]); return 2; }
  /* fuse_main gets: program, mount point, its options; -f (foreground), -s (one thread). */
  char *fargs[64];
  int n = 0;
  fargs[n++] = argv[0];
  fargs[n++] = "-f";
  fargs[n++] = "-s";
  fargs[n++] = "-o";
  fargs[n++] = "allow_other,fsname=fake_nvidia,subtype=fake_nvidia";
  for (int i = 5; i < argc && n < 62; i++) fargs[n++] = argv[i];
  fargs[n++] = argv[4];
  return fuse_main(n, fargs, &ops, NULL);
}
