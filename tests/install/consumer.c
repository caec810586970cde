/* Built against an installed interop_fd by test_install.sh, once through
 * pkg-config and once through find_package: the public headers compile with
 * only what the package brings (vulkan.h includes <vulkan/vulkan.h>), the
 * library links and loads, and its answers are right. */
#include <stdio.h>
#include <string.h>

#include <interop_fd/interop_fd.h>
#include <interop_fd/vulkan.h>

int main(void) {
  ifd_format_info info;
  if (ifd_format_query(MAX_FMT_RGBA8, &info) != 0 || info.vk_format != VK_FORMAT_R8G8B8A8_UNORM) {
    fprintf(stderr, "install consumer: ifd_format_query(RGBA8) is wrong: %s\n", ifd_last_error());
    return 1;
  }
  uint32_t n = 0;
  const ifd_vk_device_extension *ext = ifd_vk_device_extensions(&n);
  if (n == 0 || strcmp(ext[0].name, VK_KHR_EXTERNAL_MEMORY_EXTENSION_NAME) != 0 || !ext[0].required) {
    fprintf(stderr, "install consumer: ifd_vk_device_extensions is wrong\n");
    return 1;
  }
  printf("install consumer: interop_fd %d.%d.%d from the installed package works\n",
         IFD_VERSION_MAJOR, IFD_VERSION_MINOR, IFD_VERSION_PATCH);
  return 0;
}
