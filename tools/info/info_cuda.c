/* `interop-fd info`, part 1: CUDA (libcuda, its devices and the attributes
 * that export needs), through the tools' libcuda table (common/cuda_kit.h). */
#include <stdio.h>
#include <string.h>

#include "common/tool_error.h"
#include "info/info_internal.h"

/* The first line of a small text file, or "" (e.g. a sysfs attribute). */
static void read_first_line(const char *path, char *buf, size_t n) {
  buf[0] = '\0';
  FILE *f = fopen(path, "re");
  if (!f) return;
  if (!fgets(buf, (int)n, f)) buf[0] = '\0';
  fclose(f);
  buf[strcspn(buf, "\n")] = '\0';
}


static void cuda_report_device(info_state *s, int index) {
  const cuda_kit *cu = s->cu;
  CUdevice dev = 0;
  char name[256] = "?";
  if (cu->cuDeviceGet(&dev, index) != CUDA_SUCCESS) {
    info_kv(s, 2, "device", "%d: cuDeviceGet failed", index);
    return;
  }
  cu->cuDeviceGetName(name, (int)sizeof(name), dev);
  char label[32], text[37];
  info_text(label, sizeof(label), "device %d", index);
  info_kv(s, 2, label, "%s", name);
  uint8_t uuid[16];
  if (cu->cuDeviceGetUuid(uuid, dev) == CUDA_SUCCESS)
    info_kv(s, 4, "UUID", "%s", info_uuid_text(uuid, text));
  int major = 0, minor = 0;
  cu->cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
  cu->cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
  info_kv(s, 4, "compute capability", "%d.%d", major, minor);
  static const struct {
    int attr;
    const char *name;
    const char *meaning;
  } attrs[] = {
      {CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED,
       "HANDLE_TYPE_POSIX_FILE_DESCRIPTOR", "memory export as an fd"},
      {CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, "VIRTUAL_MEMORY_MANAGEMENT",
       "cuMemCreate, needed for fd export"},
      {CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED, "TIMELINE_SEMAPHORE_INTEROP",
       "imports Vulkan timeline semaphores"},
      {CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED, "DMA_BUF", "dma-buf export"},
  };
  fprintf(s->out, "    CU_DEVICE_ATTRIBUTE_..._SUPPORTED:\n");
  for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
    int v = 0;
    CUresult r = cu->cuDeviceGetAttribute(&v, attrs[i].attr, dev);
    if (r != CUDA_SUCCESS)
      info_kv(s, 6, attrs[i].name, "unknown (query failed: %d)", r);
    else
      info_kv(s, 6, attrs[i].name, "%-3s (%s)", info_yes_no(v != 0), attrs[i].meaning);
  }
}

void info_cuda_report(info_state *s) {
  fprintf(s->out, "CUDA\n");
  if (cuda_kit_load(&s->cu) != 0) {
    info_kv(s, 2, "libcuda.so.1", "not usable: %s", tool_last_error());
    return;
  }
  int version = 0;
  s->cu->cuDriverGetVersion(&version);
  info_kv(s, 2, "libcuda.so.1", "loaded, CUDA driver API %d.%d", version / 1000,
          version % 1000 / 10);
  char module[64];
  read_first_line("/sys/module/nvidia/version", module, sizeof(module));
  if (module[0]) info_kv(s, 2, "NVIDIA kernel module", "%s", module);
  int count = 0;
  CUresult r = s->cu->cuDeviceGetCount(&count);
  if (r != CUDA_SUCCESS) {
    info_kv(s, 2, "devices", "none (cuDeviceGetCount failed: %d)", r);
    return;
  }
  info_kv(s, 2, "devices", "%d", count);
  for (int i = 0; i < count; i++) cuda_report_device(s, i);
}
