/* What the Vulkan importer asks of the application's instance and device:
 *  - ifd_vk_device_extensions says which extensions are required and which
 *    optional, and lists the names of ifd_vk_required_device_extensions;
 *  - an instance created with VkApplicationInfo.apiVersion 1.0 or 1.1 hides
 *    the Vulkan 1.2 entry points: ifd_vk_importer_create fails with
 *    -EOPNOTSUPP and a message that names apiVersion as the cause;
 *  - the same device set up with apiVersion 1.2 gives an importer. */
#include <errno.h>

#include "common/vk_kit.h"
#include "interop_fd/vulkan.h"
#include "test_util.h"

static void check_extension_list(void) {
  uint32_t n = 0, m = 0;
  const ifd_vk_device_extension *ext = ifd_vk_device_extensions(&n);
  const char *const *names = ifd_vk_required_device_extensions(&m);
  REQUIRE(ext != NULL && names != NULL);
  CHECK(n == 3 && m == n);
  for (uint32_t i = 0; i < n && i < m; i++) {
    CHECK(strcmp(ext[i].name, names[i]) == 0);
    CHECK(ext[i].purpose != NULL && ext[i].purpose[0] != '\0');
    /* Required ones first. */
    if (i > 0) CHECK(ext[i].required <= ext[i - 1].required);
    int optional = strcmp(ext[i].name, "VK_KHR_external_semaphore_fd") == 0;
    CHECK(ext[i].required == (optional ? 0u : 1u));
  }
  CHECK(ifd_vk_device_extensions(NULL) == ext);
}

/* An instance of apiVersion `api` and a device on its first physical device
 * with the importer's extensions that the device has. Returns 0, or 77 where
 * no Vulkan device with external memory fds exists. */
static int make_device(uint32_t api, VkInstance *instance, VkPhysicalDevice *physical,
                       VkDevice *device) {
  /* For a 1.0 instance, the instance extensions that 1.1 made core. */
  const char *inst_ext[] = {"VK_KHR_get_physical_device_properties2",
                            "VK_KHR_external_memory_capabilities",
                            "VK_KHR_external_semaphore_capabilities"};
  if (vk_kit_create_instance(NULL, api, inst_ext, api < VK_API_VERSION_1_1 ? 3 : 0, instance) != 0)
    return TEST_SKIP;
  if (vk_kit_pick_physical(*instance, NULL, physical, NULL) != 0) {
    vkDestroyInstance(*instance, NULL);
    return TEST_SKIP;
  }
  uint32_t want_count, enabled = 0;
  const ifd_vk_device_extension *want = ifd_vk_device_extensions(&want_count);
  const char *names[8];
  for (uint32_t i = 0; i < want_count && enabled < 8; i++)
    if (vk_kit_has_device_extension(*physical, want[i].name)) names[enabled++] = want[i].name;
  vk_kit_device_config dc = {.physical = *physical,
                             .family = 0,
                             .extensions = names,
                             .extension_count = enabled};
  VkQueue queue;
  if (vk_kit_create_device(&dc, device, &queue) != 0) {
    vkDestroyInstance(*instance, NULL);
    return TEST_SKIP;
  }
  return 0;
}

static void check_api_version(uint32_t api, int want_rc) {
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  if (make_device(api, &instance, &physical, &device) != 0)
    SKIP("no Vulkan device could be created (apiVersion %u.%u)", VK_API_VERSION_MAJOR(api),
         VK_API_VERSION_MINOR(api));
  VkPhysicalDeviceProperties p;
  vkGetPhysicalDeviceProperties(physical, &p);
  if (VK_API_VERSION_MINOR(p.apiVersion) < 2 && VK_API_VERSION_MAJOR(p.apiVersion) == 1)
    SKIP("%s supports only Vulkan 1.%u", p.deviceName, VK_API_VERSION_MINOR(p.apiVersion));
  ifd_vk_device_info info = {.instance = instance, .physical_device = physical, .device = device};
  ifd_vk_importer *imp = NULL;
  int rc = ifd_vk_importer_create(&info, &imp);
  printf("apiVersion 1.%u: rc %d, %s\n", VK_API_VERSION_MINOR(api), rc,
         rc ? ifd_last_error() : "importer created");
  CHECK_RC(rc, want_rc);
  if (want_rc != 0) {
    CHECK(imp == NULL);
    CHECK(strstr(ifd_last_error(), "apiVersion") != NULL);
    CHECK(strstr(ifd_last_error(), "VK_API_VERSION_1_2") != NULL);
  }
  ifd_vk_importer_destroy(imp);
  vkDestroyDevice(device, NULL);
  vkDestroyInstance(instance, NULL);
}

int main(void) {
  check_extension_list();
  int fds = test_count_fds();
  check_api_version(VK_API_VERSION_1_0, -EOPNOTSUPP);
  check_api_version(VK_API_VERSION_1_1, -EOPNOTSUPP);
  check_api_version(VK_API_VERSION_1_2, 0);
  CHECK(test_count_fds() == fds);
  return test_finish("vk_api_version");
}
